// The node's metadata as it is now: the agent config's `meta` with the dynamic changes of
// Nomad's `node meta apply` (PUT /v1/client/metadata) laid over it, kept in the state store so
// that they outlive a restart (docs/nomad-compat.md, "Node metadata"). A dynamic key set to
// null removes the key, the config's too. Read by every thread that starts a task or admits a
// job; changed by the API: one mutex, and a generation that moves on each change.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "drover/common/result.hpp"

namespace drover::runner {

using DynamicMeta = std::map<std::string, std::optional<std::string>>;

class NodeMeta {
 public:
  // `save` persists the dynamic keys (a JSON object, null for a removed key); empty: none.
  NodeMeta(std::map<std::string, std::string> static_meta, DynamicMeta dynamic,
           std::function<Status(const std::string& json)> save = {});

  std::map<std::string, std::string> merged() const;
  std::optional<std::string> get(const std::string& key) const;
  const std::map<std::string, std::string>& static_meta() const { return static_; }
  DynamicMeta dynamic() const;
  uint64_t generation() const;

  // Applies `changes` (a value sets a key, nullopt removes it) after checking every key and
  // value; nothing is applied when one is refused or the save fails. Returns the merged meta.
  Result<std::map<std::string, std::string>> apply(const DynamicMeta& changes);

  // The dynamic keys as stored (a JSON object), and read back; a refused text is an error.
  static std::string to_json(const DynamicMeta& d);
  static Result<DynamicMeta> from_json(const std::string& text);
  // Why a key or value cannot be node metadata, or nullopt.
  static std::optional<std::string> problem(const std::string& key,
                                            const std::optional<std::string>& value);

 private:
  std::map<std::string, std::string> merged_locked() const;  // mu_ held

  const std::map<std::string, std::string> static_;
  mutable std::mutex mu_;
  DynamicMeta dynamic_;
  uint64_t generation_ = 0;
  std::function<Status(const std::string&)> save_;
};

}  // namespace drover::runner
