// VariableStore: Nomad Variables for the API, the CLI (through the API) and the template
// engine. It seals items before they reach the backend and opens them after, so neither the
// state store nor etcd ever holds a plain value (docs/variables.md).
//
// For the template engine (nomadVar, nomadVarList, nomadVarExists):
//   auto v = store.get("default", "nomad/jobs/web");      // Result<Variable>, NotFound if absent
//   auto l = store.list("default", "nomad/jobs/");         // metadata only
//   uint64_t seen = store.index();                         // before reading
//   ... render ...
//   store.wait_for_change("default", "nomad/jobs/web", seen, 30s);  // wakes on a change under
//                                                                    // that prefix (or timeout)
// or subscribe() for a callback per change. index() counts every change this agent saw
// (its own writes, and in cluster mode other nodes' through an etcd watch); it only grows.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "vars/backend.hpp"
#include "vars/keyring.hpp"
#include "vars/variable.hpp"

namespace drover::vars {

// A put or a delete: done, or refused by its check-and-set index with what is stored now.
struct WriteOutcome {
  bool conflict = false;
  std::optional<Variable> current;  // on conflict: the stored variable (none: absent)
  std::optional<Variable> written;  // after a put: the variable with its new indexes
};

class VariableStore {
 public:
  VariableStore(std::unique_ptr<VariableBackend> backend, std::shared_ptr<Keyring> keyring);
  ~VariableStore();

  // NotFound when there is none; Invalid for a bad path or namespace.
  Result<Variable> get(const std::string& ns, const std::string& path) const;
  bool exists(const std::string& ns, const std::string& path) const;
  // Metadata of every variable of `ns` ("" or "*": all namespaces) under `prefix`, by path.
  Result<std::vector<VariableMeta>> list(const std::string& ns, const std::string& prefix) const;
  // Validates (path, items, 64 KiB), seals and writes. `cas`: Nomad's check-and-set index.
  Result<WriteOutcome> put(const std::string& ns, const std::string& path,
                           const std::map<std::string, std::string>& items,
                           std::optional<uint64_t> cas = std::nullopt);
  // Deleting what is absent succeeds (as in Nomad), unless a cas other than 0 says otherwise.
  Result<WriteOutcome> remove(const std::string& ns, const std::string& path,
                              std::optional<uint64_t> cas = std::nullopt);

  // The change counter: grows by one at every change this agent sees.
  uint64_t index() const;
  // Blocks until a variable of `ns` whose path starts with `prefix` changed after `after` (a
  // value of index()), or `timeout` passed, or stop(); returns index(). A change it cannot
  // place any more (older than the last 1024) counts as a change.
  uint64_t wait_for_change(const std::string& ns, const std::string& prefix, uint64_t after,
                           std::chrono::milliseconds timeout) const;
  // `fn(namespace, path, index)` after each change, on the thread that made or saw it,
  // outside the store's locks; an empty path means "anything may have changed".
  int subscribe(std::function<void(const std::string&, const std::string&, uint64_t)> fn);
  void unsubscribe(int id);

  // `drover operator root keyring rotate`: a new active key. With `full`, every variable is
  // sealed again with it (check-and-set, so a concurrent write wins); otherwise old values
  // stay sealed with the key that sealed them, which the keyring keeps.
  Result<KeyInfo> rotate_key(bool full);
  const Keyring& keyring() const { return *keyring_; }
  std::shared_ptr<Keyring> keyring_ptr() const { return keyring_; }

  // Wakes the waiters and stops the backend's watch.
  void stop();

 private:
  Result<Variable> open_row(const VariableRow& row) const;
  // A write refused by its check-and-set index, with the stored variable opened.
  Result<WriteOutcome> conflict_outcome(const state::VariableWrite& w) const;
  void changed(const std::string& ns, const std::string& path);

  std::unique_ptr<VariableBackend> backend_;
  std::shared_ptr<Keyring> keyring_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t index_ = 0;
  bool stopped_ = false;
  struct Change {
    uint64_t index;
    std::string ns, path;
  };
  std::deque<Change> recent_;  // the last 1024 changes
  int next_sub_ = 0;
  std::map<int, std::function<void(const std::string&, const std::string&, uint64_t)>> subs_;
};

// "<ns>\0<path>": what a sealed value is bound to.
std::string sealing_context(const std::string& ns, const std::string& path);

}  // namespace drover::vars
