// Nomad Variables' rules and JSON shapes (vars/variable.hpp).
#include "vars/variable.hpp"

#include <chrono>
#include <vector>

#include "drover/common/json_text.hpp"
#include "drover/common/split.hpp"
#include "jobspec/parse.hpp"

namespace drover::vars {

using nlohmann::json;

namespace {

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '~' || c == '/';
}

}  // namespace

Status validate_path(std::string_view path) {
  if (path.empty()) return make_error("Path: a variable requires a path", Errc::Invalid);
  if (path.size() > kMaxPathLength)
    return make_error("Path: \"" + std::string(path.substr(0, 32)) + "...\" is " +
                          std::to_string(path.size()) + " characters long; at most " +
                          std::to_string(kMaxPathLength) + " are allowed",
                      Errc::Invalid);
  for (char c : path)
    if (!path_char(c))
      return make_error(
          "Path: " + json(std::string(path)).dump(-1, ' ', false, json::error_handler_t::replace) +
              " has a character outside letters, digits and - _ ~ /",
          Errc::Invalid);
  auto parts = split(path, '/');
  if (parts[0] != "nomad") return {};
  if (parts.size() == 1)
    return make_error(
        "Path: \"nomad\" is a reserved top-level directory path, but you may "
        "write variables to \"nomad/jobs\", \"nomad/job-templates\", or below",
        Errc::Invalid);
  if (parts[1] == "jobs") return {};
  if (parts[1] == "job-templates" && parts.size() == 3) return {};
  if (parts[1] == "job-templates")
    return make_error(
        "Path: \"nomad/job-templates\" is a reserved directory path, but you may "
        "write variables at the level below it, for example "
        "\"nomad/job-templates/template-name\"",
        Errc::Invalid);
  return make_error(
      "Path: only paths at \"nomad/jobs\" or \"nomad/job-templates\" and below "
      "are valid paths under the top-level \"nomad\" directory",
      Errc::Invalid);
}

Status validate_namespace(std::string_view ns) {
  if (ns == "*")
    return make_error("Namespace: can not target the wildcard (\"*\") namespace", Errc::Invalid);
  bool ok = !ns.empty() && ns.size() <= 128;
  for (char c : ns)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      ok = false;
  if (!ok) return make_error("Namespace: must be 1 to 128 letters, digits, - or _", Errc::Invalid);
  return {};
}

Status validate_items(const std::map<std::string, std::string>& items) {
  if (items.empty())
    return make_error("Items: empty variables are invalid (give at least one key)", Errc::Invalid);
  std::size_t total = 0;
  for (const auto& [k, v] : items) {
    if (k.empty()) return make_error("Items: a key must not be empty", Errc::Invalid);
    total += k.size() + v.size();
  }
  if (total > kMaxVariableBytes)
    return make_error(
        "Items: variables are limited to 64KiB in total size (keys and values); "
        "this one has " +
            std::to_string(total) + " bytes",
        Errc::Invalid);
  return {};
}

json to_json(const VariableMeta& m, bool show_lock) {
  json j = {{"Namespace", m.ns},
            {"Path", m.path},
            {"CreateIndex", m.create_index},
            {"ModifyIndex", m.modify_index},
            {"CreateTime", m.create_time_ns},
            {"ModifyTime", m.modify_time_ns}};
  if (m.lock && show_lock)
    j["Lock"] = {{"ID", m.lock->id},
                 {"TTL", jobspec::format_duration(std::chrono::nanoseconds(m.lock->ttl_ns))},
                 {"LockDelay", jobspec::format_duration(std::chrono::nanoseconds(m.lock->delay_ns))}};
  return j;
}

json to_json(const Variable& v, bool show_lock) {
  auto j = to_json(v.meta, show_lock);
  j["Items"] = v.items;
  return j;
}

std::string lock_text(const std::optional<VariableLock>& lock) {
  if (!lock) return "";
  return json{{"ID", lock->id}, {"TTL", lock->ttl_ns}, {"LockDelay", lock->delay_ns}}.dump();
}

std::optional<VariableLock> lock_from_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("ID") || !j["ID"].is_string()) return std::nullopt;
  VariableLock lock;
  lock.id = j["ID"].get<std::string>();
  lock.ttl_ns = j.value("TTL", int64_t{0});
  lock.delay_ns = j.value("LockDelay", int64_t{0});
  return lock;
}

namespace {

// A lock duration: Go's duration text ("15s") or integer nanoseconds, as Nomad reads both.
Result<std::int64_t> lock_duration(const json& v, const std::string& field) {
  if (v.is_null()) return std::int64_t{0};
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_string()) {
    auto text = v.get<std::string>();
    if (text.empty()) return std::int64_t{0};
    const bool negative = text[0] == '-';
    auto d = jobspec::parse_duration(negative ? std::string_view(text).substr(1) : text);
    if (!d) return make_error("Lock." + field + ": " + d.message(), Errc::Invalid);
    return negative ? -d->count() : d->count();
  }
  return make_error("Lock." + field + ": must be a duration such as \"15s\"", Errc::Invalid);
}

}  // namespace

Result<std::optional<VariableLock>> lock_from_json(const json& body) {
  if (!body.is_object() || !body.contains("Lock") || body["Lock"].is_null())
    return std::optional<VariableLock>();
  const auto& l = body["Lock"];
  if (!l.is_object()) return make_error("Lock: must be an object {ID, TTL, LockDelay}", Errc::Invalid);
  VariableLock lock;
  if (l.contains("ID") && !l["ID"].is_null()) {
    if (!l["ID"].is_string()) return make_error("Lock.ID: must be a string", Errc::Invalid);
    lock.id = l["ID"].get<std::string>();
    // Nomad makes a UUID; one given back is checked against the stored one, never trusted
    // for its size.
    if (lock.id.size() > 128) return make_error("Lock.ID: at most 128 characters", Errc::Invalid);
  }
  auto ttl = lock_duration(l.contains("TTL") ? l["TTL"] : json(), "TTL");
  if (!ttl) return ttl.error();
  auto delay = lock_duration(l.contains("LockDelay") ? l["LockDelay"] : json(), "LockDelay");
  if (!delay) return delay.error();
  lock.ttl_ns = *ttl;
  lock.delay_ns = *delay;
  return std::optional<VariableLock>(lock);
}

Status canonicalize_lock(VariableLock& lock) {
  if (lock.ttl_ns < 0 || lock.delay_ns < 0)
    return make_error("Lock: the lock delay and TTL must be positive", Errc::Invalid);
  if (lock.ttl_ns == 0) lock.ttl_ns = kDefaultLockTtlNs;
  if (lock.delay_ns == 0) lock.delay_ns = kDefaultLockDelayNs;
  if (lock.ttl_ns < kMinLockTtlNs || lock.ttl_ns > kMaxLockTtlNs)
    return make_error("Lock.TTL: must be between 10 seconds and 24 hours, not " +
                          jobspec::format_duration(std::chrono::nanoseconds(lock.ttl_ns)),
                      Errc::Invalid);
  return {};
}

Result<std::map<std::string, std::string>> items_from_json(const json& body) {
  if (!body.is_object() || !body.contains("Items") || !body["Items"].is_object())
    return make_error("body: must be a JSON object {\"Items\": {\"key\": \"value\", ...}}",
                      Errc::Invalid);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : body["Items"].items()) {
    if (!v.is_string()) return make_error("Items." + k + ": must be a string", Errc::Invalid);
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string items_text(const std::map<std::string, std::string>& items) {
  return json(items).dump();
}

Result<std::map<std::string, std::string>> items_from_text(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error("decrypted items are not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) return make_error("decrypted item " + k + " is not a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace drover::vars
