// A Nomad Variable: its metadata (namespace, path, indexes, times) and its items (the secret
// map of strings), Nomad's rules for paths and sizes, and its JSON shapes (docs/variables.md).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "drover/common/result.hpp"

namespace drover::vars {

// Nomad's maxVariableSize: the keys and values of one variable together, unencrypted.
constexpr std::size_t kMaxVariableBytes = 64 * 1024;
constexpr std::size_t kMaxPathLength = 128;

// Nomad's bounds and defaults for a lock's TTL and delay (structs/variables.go).
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kMinLockTtlNs = 10 * kSecondNs;
constexpr std::int64_t kMaxLockTtlNs = 24 * 3600 * kSecondNs;
constexpr std::int64_t kDefaultLockTtlNs = 15 * kSecondNs;
constexpr std::int64_t kDefaultLockDelayNs = 15 * kSecondNs;

// A lock held over a variable (docs/variables.md, "Locks"). The holder keeps it by renewing
// within its TTL; as in Nomad, it is lost only at twice the TTL after the last acquire or
// renew (a grace for the network), and then no one may take it for LockDelay more.
struct VariableLock {
  std::string id;
  std::int64_t ttl_ns = kDefaultLockTtlNs;
  std::int64_t delay_ns = kDefaultLockDelayNs;
  // Not stored: where the lease ends on this agent's monotonic clock, worked out by the
  // VariableStore from when it saw the lock last written (variable_store.hpp).
  std::int64_t expires_ns = 0;
  // The holder may still renew it.
  bool held(std::int64_t now_ns) const { return now_ns < expires_ns; }
  // No one else may take it, or write or delete the variable without its ID.
  bool blocks(std::int64_t now_ns) const { return now_ns < expires_ns + delay_ns; }
};

struct VariableMeta {
  std::string ns = "default";
  std::string path;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  std::int64_t create_time_ns = 0;
  std::int64_t modify_time_ns = 0;
  std::optional<VariableLock> lock;  // only while it blocks
};

struct Variable {
  VariableMeta meta;
  std::map<std::string, std::string> items;
};

// Nomad's rule (structs.validatePath): 1 to 128 of [a-zA-Z0-9-_~/]; under the reserved top
// dir "nomad" only "nomad/jobs..." and "nomad/job-templates/<name>". Invalid names the path.
Status validate_path(std::string_view path);
// A namespace name: 1 to 128 of [a-zA-Z0-9-_]; "*" (all namespaces) is not a place to write.
Status validate_namespace(std::string_view ns);
// Items present and within 64 KiB (keys and values together), keys non-empty. Invalid.
Status validate_items(const std::map<std::string, std::string>& items);

// Nomad's JSON: {Namespace, Path, CreateIndex, ModifyIndex, CreateTime, ModifyTime}, Lock
// ({ID, TTL, LockDelay}, durations as Go writes them) when there is one and `show_lock`, and,
// for a whole variable, Items.
nlohmann::json to_json(const VariableMeta& m, bool show_lock = true);
nlohmann::json to_json(const Variable& v, bool show_lock = true);

// A lock as stored beside the sealed items ({ID, TTL, LockDelay}, nanoseconds), and back; ""
// is no lock.
std::string lock_text(const std::optional<VariableLock>& lock);
std::optional<VariableLock> lock_from_text(std::string_view text);

// The Lock of a request body ({"Lock": {"ID", "TTL", "LockDelay"}}; durations as Go duration
// strings or integer nanoseconds): nullopt when absent or null. Invalid, naming the field.
Result<std::optional<VariableLock>> lock_from_json(const nlohmann::json& body);
// An acquire's lock as Nomad settles it: a zero TTL or delay is the default (15s each); the TTL
// must then be within 10s..24h and neither negative. Invalid, naming the field.
Status canonicalize_lock(VariableLock& lock);

// The items of a PUT body ({"Items": {...}} or Nomad CLI's whole-variable shape): every value a
// string. Invalid, naming the field ("Items.password: must be a string").
Result<std::map<std::string, std::string>> items_from_json(const nlohmann::json& body);

// The one text the items are encrypted as (sorted JSON object), and back.
std::string items_text(const std::map<std::string, std::string>& items);
Result<std::map<std::string, std::string>> items_from_text(std::string_view text);

}  // namespace drover::vars
