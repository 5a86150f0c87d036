// Variable specification files (cli/var_spec.hpp).
#include "cli/var_spec.hpp"

#include <algorithm>

#include "jobspec/hcl/hcl.hpp"

namespace drover::cli {

namespace {

using nlohmann::json;

Result<std::map<std::string, std::string>> items_of(const json& items, const std::string& where) {
  if (!items.is_object()) return make_error(where + ": must be a map of strings");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : items.items()) {
    if (!v.is_string()) return make_error(where + "." + k + ": must be a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<VarSpec> from_json(const std::string& text, const std::string& origin) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error(origin + ": not a JSON object (a variable specification)");
  VarSpec s;
  for (const auto& [k, v] : j.items()) {
    if (k == "Namespace" || k == "Path") {
      if (!v.is_string()) return make_error(origin + ": " + k + ": must be a string");
      (k == "Path" ? s.path : s.ns) = v.get<std::string>();
    } else if (k == "Items") {
      auto items = items_of(v, origin + ": Items");
      if (!items) return items.error();
      s.items = std::move(*items);
    } else if (k == "ModifyIndex") {
      if (!v.is_number_unsigned() && !v.is_number_integer())
        return make_error(origin + ": ModifyIndex: must be a whole number");
      if (v.get<std::int64_t>() > 0) s.modify_index = v.get<std::uint64_t>();
    } else if (k == "CreateIndex" || k == "CreateTime" || k == "ModifyTime" || k == "Lock") {
      // The server's, as `var get -out json` printed them: a spec read back is fine.
    } else {
      return make_error(origin + ": a variable specification has no \"" + k +
                        "\" (Namespace, Path, Items, and the server's indexes and times)");
    }
  }
  return s;
}

Result<VarSpec> from_hcl(const std::string& text, const std::string& origin) {
  auto body = jobspec::hcl::parse(text);
  if (!body) return make_error(origin + ": " + body.message());
  auto at = [&](const jobspec::hcl::Pos& p) { return origin + ": line " + std::to_string(p.line) + ": "; };
  VarSpec s;
  for (const auto& a : body->attributes) {
    if (a.name == "path" || a.name == "namespace") {
      if (!a.value.is_string()) return make_error(at(a.pos) + a.name + ": must be a string");
      (a.name == "path" ? s.path : s.ns) = a.value.get<std::string>();
    } else if (a.name == "items") {
      auto items = items_of(a.value, at(a.pos) + "items");
      if (!items) return items.error();
      s.items = std::move(*items);
    } else if (a.name == "modify_index") {
      if (!a.value.is_number_integer() && !a.value.is_number_unsigned())
        return make_error(at(a.pos) + "modify_index: must be a whole number");
      if (a.value.get<std::int64_t>() > 0) s.modify_index = a.value.get<std::uint64_t>();
    } else if (a.name == "create_index" || a.name == "create_time" || a.name == "modify_time") {
      // The server's, as `-out hcl` wrote them.
    } else {
      return make_error(at(a.pos) + "a variable specification has no \"" + a.name +
                        "\" (path, namespace, items)");
    }
  }
  for (const auto& b : body->blocks) {
    if (b.type != "items" || !b.labels.empty() || !b.body.blocks.empty())
      return make_error(at(b.pos) + "a variable specification has no \"" + b.type +
                        "\" block (items { key = \"value\" })");
    for (const auto& a : b.body.attributes) {
      if (!a.value.is_string()) return make_error(at(a.pos) + "items." + a.name + ": must be a string");
      s.items[a.name] = a.value.get<std::string>();
    }
  }
  return s;
}

// An HCL string literal: quoted, with what HCL would read as escapes or templates escaped.
std::string hcl_quote(const std::string& s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"' || c == '\\') out += std::string("\\") + c;
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if ((c == '$' || c == '%') && i + 1 < s.size() && s[i + 1] == '{') out += std::string(2, c);
    else out += c;
  }
  return out + "\"";
}

}  // namespace

Result<VarSpec> parse_var_spec(const std::string& text, const std::string& format,
                               const std::string& origin) {
  if (format == "json") return from_json(text, origin);
  if (format == "hcl") return from_hcl(text, origin);
  return make_error("-in: \"" + format + "\" is not a specification format (hcl or json)");
}

std::string var_spec_format(const std::string& file, const std::string& fallback) {
  auto ends = [&](const std::string& ext) {
    return file.size() > ext.size() && file.compare(file.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends(".hcl")) return "hcl";
  if (ends(".json")) return "json";
  return fallback;
}

std::string render_var_hcl(const json& v) {
  auto num = [&](const char* k) { return v.contains(k) ? v[k].dump() : std::string("0"); };
  std::string out;
  out += "namespace    = " + hcl_quote(v.value("Namespace", std::string("default"))) + "\n";
  out += "path         = " + hcl_quote(v.value("Path", std::string())) + "\n";
  out += "create_index = " + num("CreateIndex") + "  # Set by server\n";
  out += "modify_index = " + num("ModifyIndex") + "  # Set by server; consulted for check-and-set\n";
  out += "create_time  = " + num("CreateTime") + "   # Set by server\n";
  out += "modify_time  = " + num("ModifyTime") + "   # Set by server\n\nitems = {\n";
  std::size_t pad = 0;
  const json items = v.contains("Items") && v["Items"].is_object() ? v["Items"] : json::object();
  for (const auto& [k, _] : items.items()) pad = std::max(pad, k.size());
  for (const auto& [k, val] : items.items()) {
    // A key that is not an identifier is written quoted, so the file reads back.
    const bool ident = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    }) && !std::isdigit(static_cast<unsigned char>(k[0]));
    const std::string key = ident ? k : hcl_quote(k);
    out += "  " + std::string(pad > key.size() ? pad - key.size() : 0, ' ') + key + " = " +
           hcl_quote(val.is_string() ? val.get<std::string>() : val.dump()) + "\n";
  }
  return out + "}\n";
}

const char* const kVarInitHcl = R"(# A variable path can be given in the specification file, and is used when writing the
# variable without a path on the command line.
# path = "path/to/variable"

# The namespace to write the variable to; the "-namespace" flag of "var put" overrides it.
# namespace = "default"

# The items map is the only part a specification needs, since path and namespace can be given
# otherwise. It holds the secret material to encrypt and store as a Nomad variable; the whole
# map is encrypted and decrypted as one.
#
# Keys that are not valid identifiers (letters, digits and underscores) cannot be read by a
# template's dot syntax: use index (`{{ index .Data "my-key" }}`) for those.
items {
  key1 = "value 1"
  key2 = "value 2"
}
)";

const char* const kVarInitJson = R"({
  "Namespace": "default",
  "Path": "path/to/variable",
  "Items": {
    "key1": "value 1",
    "key2": "value 2"
  }
}
)";

}  // namespace drover::cli
