// A Nomad Variable: its metadata (namespace, path, indexes, times) and its items (the secret
// map of strings), Nomad's rules for paths and sizes, and its JSON shapes (docs/variables.md).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "drover/common/result.hpp"

namespace drover::vars {

// Nomad's maxVariableSize: the keys and values of one variable together, unencrypted.
constexpr std::size_t kMaxVariableBytes = 64 * 1024;
constexpr std::size_t kMaxPathLength = 128;

struct VariableMeta {
  std::string ns = "default";
  std::string path;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  std::int64_t create_time_ns = 0;
  std::int64_t modify_time_ns = 0;
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

// Nomad's JSON: {Namespace, Path, CreateIndex, ModifyIndex, CreateTime, ModifyTime} and, for a
// whole variable, Items.
nlohmann::json to_json(const VariableMeta& m);
nlohmann::json to_json(const Variable& v);

// The items of a PUT body ({"Items": {...}} or Nomad CLI's whole-variable shape): every value a
// string. Invalid, naming the field ("Items.password: must be a string").
Result<std::map<std::string, std::string>> items_from_json(const nlohmann::json& body);

// The one text the items are encrypted as (sorted JSON object), and back.
std::string items_text(const std::map<std::string, std::string>& items);
Result<std::map<std::string, std::string>> items_from_text(std::string_view text);

}  // namespace drover::vars
