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

// A put, a delete or a lock operation: done, or refused (a 409) by its check-and-set index
// (with what is stored now) or by a lock (with Nomad's words for why).
struct WriteOutcome {
  bool conflict = false;
  std::string lock_refusal;         // on a conflict over a lock: why; empty for check-and-set
  std::optional<Variable> current;  // on a check-and-set conflict: the stored variable
  std::optional<Variable> written;  // after a put: the variable with its new indexes
};

class VariableStore {
 public:
  // `clock` (monotonic, ns; default: steady_clock) is what a lock's lease is measured by.
  VariableStore(std::unique_ptr<VariableBackend> backend, std::shared_ptr<Keyring> keyring,
                std::function<std::int64_t()> clock = {});
  ~VariableStore();

  // NotFound when there is none; Invalid for a bad path or namespace.
  Result<Variable> get(const std::string& ns, const std::string& path) const;
  bool exists(const std::string& ns, const std::string& path) const;
  // Metadata of every variable of `ns` ("" or "*": all namespaces) under `prefix`, by path.
  Result<std::vector<VariableMeta>> list(const std::string& ns, const std::string& prefix) const;
  // Validates (path, items, 64 KiB), seals and writes. `cas`: Nomad's check-and-set index.
  // A locked variable takes writes only from its lock's holder (`lock_id`); the lock stays.
  Result<WriteOutcome> put(const std::string& ns, const std::string& path,
                           const std::map<std::string, std::string>& items,
                           std::optional<uint64_t> cas = std::nullopt,
                           const std::string& lock_id = "");
  // Deleting what is absent succeeds (as in Nomad), unless a cas other than 0 says otherwise.
  // A locked variable is not deleted: its holder releases the lock first.
  Result<WriteOutcome> remove(const std::string& ns, const std::string& path,
                              std::optional<uint64_t> cas = std::nullopt);

  // Nomad's variable locks (docs/variables.md, "Locks"). Acquire puts `lock` (its TTL and delay
  // settled by canonicalize_lock; a new ID unless the holder's own is given) over the
  // variable, making it when absent; `items`, when given, replace the variable's. Refused while
  // another's lock blocks. `written` carries the lock with its ID.
  Result<WriteOutcome> acquire_lock(const std::string& ns, const std::string& path,
                                    VariableLock lock,
                                    const std::optional<std::map<std::string, std::string>>& items);
  // Extends the holder's lease by twice its TTL from now; refused once it was lost. NotFound
  // for a variable that does not exist.
  Result<WriteOutcome> renew_lock(const std::string& ns, const std::string& path,
                                  const std::string& lock_id);
  // Takes the lock off, keeping the items. NotFound for a variable that does not exist.
  Result<WriteOutcome> release_lock(const std::string& ns, const std::string& path,
                                    const std::string& lock_id);

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
  // The row's metadata, its lock only while it blocks.
  VariableMeta meta_of(const VariableRow& row) const;
  // The row's lock with where its lease ends (expires_ns), or nullopt when it has none or it
  // no longer blocks. A lease is measured on this agent's monotonic clock from when it first
  // saw the row as it is (its ModifyIndex): a wall clock that jumps never ends one early, and a
  // lock read first after a restart, or on another agent, gets its whole lease from then, as
  // Nomad's new leader gives every lock (docs/variables.md, "Locks").
  std::optional<VariableLock> blocking_lock(const std::optional<VariableRow>& row,
                                            std::int64_t now) const;
  // A write refused by its check-and-set index, with the stored variable opened.
  Result<WriteOutcome> conflict_outcome(std::optional<VariableRow> current) const;
  // Reads the stored row, asks `decide` what to write over it (a row, nullopt to delete, or
  // an outcome to answer without writing: a refusal), and writes it only over that same row
  // (check-and-set on its index), reading again when another writer got in between. `items`
  // are what the result shows.
  struct Decision {
    std::optional<WriteOutcome> answer;
    std::optional<VariableRow> row;  // none: delete
  };
  Result<WriteOutcome> write_over(
      const std::string& ns, const std::string& path,
      const std::function<Result<Decision>(const std::optional<VariableRow>&, std::int64_t)>& decide,
      const std::map<std::string, std::string>& items);
  // A renewal or a release by the lock's holder (renew_lock, release_lock).
  Result<WriteOutcome> holder_write(const std::string& ns, const std::string& path,
                                    const std::string& lock_id, bool release);
  void changed(const std::string& ns, const std::string& path);

  std::unique_ptr<VariableBackend> backend_;
  std::shared_ptr<Keyring> keyring_;
  std::function<std::int64_t()> clock_;
  // Each locked variable's row as last seen here ((namespace, path) -> its ModifyIndex and
  // when): the start of the lease blocking_lock measures.
  struct LeaseSeen {
    std::int64_t modify_index = 0;
    std::int64_t at_ns = 0;
  };
  mutable std::mutex leases_mu_;
  mutable std::map<std::pair<std::string, std::string>, LeaseSeen> leases_;
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
