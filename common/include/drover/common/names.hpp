// Plain names: job, group, task, plugin and driver names become path components and
// process arguments, so they are checked in one place (docs/threat-model.md, "Paths and links").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace drover {

inline constexpr std::size_t kMaxNameLength = 128;

// Returns why `name` is not a plain name, or nothing when it is one: not empty, at most
// 128 bytes, no '/', no '\\', no NUL or control bytes, not "." or "..".
std::optional<std::string> plain_name_problem(std::string_view name);

// Nomad's namespace names: 1 to 128 of [a-zA-Z0-9-] (a namespace is a path part of etcd keys
// and of the meta table's keys, so nothing else). Returns why not, or nothing.
inline constexpr const char* kDefaultNamespace = "default";
std::optional<std::string> namespace_name_problem(std::string_view name);

// Task names that would collide with the alloc dir's own folders.
bool is_reserved_task_name(std::string_view name);

}  // namespace drover
