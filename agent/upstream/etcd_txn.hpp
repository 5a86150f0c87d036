// The parts of an etcd transaction in the shape EtcdClient::txn takes (etcd's JSON gateway:
// keys and values base64, revisions decimal strings; etcd_grpc.cpp reads them back): every
// compare and request the agent and the servers send is spelled here once, by what it means.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "drover/common/encoding.hpp"

namespace drover::upstream::txn {

namespace detail {
inline nlohmann::json compare(const std::string& key, const char* target, const char* result,
                              const char* field, nlohmann::json operand) {
  return {{"key", base64_encode(key)}, {"target", target}, {"result", result}, {field, std::move(operand)}};
}
}  // namespace detail

// --- compares ---

// `key` holds exactly `value`.
inline nlohmann::json value_is(const std::string& key, const std::string& value) {
  return detail::compare(key, "VALUE", "EQUAL", "value", base64_encode(value));
}
// `key` was created at `create_revision` (a lease-bound key such as the leader's: the same
// holder, not one that lost it and took it again).
inline nlohmann::json created_at(const std::string& key, int64_t create_revision) {
  return detail::compare(key, "CREATE", "EQUAL", "create_revision", std::to_string(create_revision));
}
// `key` does not exist.
inline nlohmann::json absent(const std::string& key) { return created_at(key, 0); }
// `key` exists.
inline nlohmann::json present(const std::string& key) {
  return detail::compare(key, "VERSION", "GREATER", "version", "0");
}
// `key` was last written at `mod_revision`, as read (0: it was absent, and still is).
inline nlohmann::json modified_at(const std::string& key, int64_t mod_revision) {
  return detail::compare(key, "MOD", "EQUAL", "mod_revision", std::to_string(mod_revision));
}
// `key` has not been written after `revision` (a read at that revision still holds for it).
inline nlohmann::json unchanged_since(const std::string& key, int64_t revision) {
  return detail::compare(key, "MOD", "LESS", "mod_revision", std::to_string(revision + 1));
}
// No key under `prefix` has been written after `revision`. `prefix_end` is
// EtcdClient::prefix_end(prefix) (passed in: this header needs no client).
inline nlohmann::json prefix_unchanged_since(const std::string& prefix, const std::string& prefix_end,
                                             int64_t revision) {
  nlohmann::json c = unchanged_since(prefix, revision);
  c["range_end"] = base64_encode(prefix_end);
  return c;
}

// --- requests ---

// Put `value` at `key`, bound to `lease` when not 0.
inline nlohmann::json put(const std::string& key, const std::string& value, int64_t lease = 0) {
  nlohmann::json p = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) p["lease"] = std::to_string(lease);
  return {{"request_put", std::move(p)}};
}
// Delete `key`.
inline nlohmann::json del(const std::string& key) {
  return {{"request_delete_range", {{"key", base64_encode(key)}}}};
}
// Read `key` (the reply's responses[i].response_range.kvs).
inline nlohmann::json get(const std::string& key) {
  return {{"request_range", {{"key", base64_encode(key)}}}};
}

}  // namespace drover::upstream::txn
