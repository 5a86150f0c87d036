// Faithful YAML -> JSON for free-form maps (a task's driver config), and the walk that
// bounds a parsed YAML document's depth and size (aliases can make a small file huge).
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace drover::jobspec::detail {

// A scalar's JSON value under YAML 1.2's core schema: quoted scalars stay strings; plain
// null/~/empty -> null, true/false -> bool, decimal/0x/0o integers -> int, decimals -> float;
// everything else is the string as written.
nlohmann::json yaml_scalar_to_json(const YAML::Node& scalar);

// Whole node. Map keys are their scalar text. Errors (a non-scalar key) as a message.
std::optional<nlohmann::json> yaml_to_json(const YAML::Node& node, std::string* error);

// Why the document is too deep or too big once aliases are expanded, or nothing.
std::optional<std::string> yaml_bounds_problem(const YAML::Node& root, int max_depth,
                                               std::size_t max_nodes);

// A quoted scalar ("123", 'true'): yaml-cpp marks it with the non-specific tag "!".
bool is_quoted(const YAML::Node& scalar);

}  // namespace drover::jobspec::detail
