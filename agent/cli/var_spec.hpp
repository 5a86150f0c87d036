// Nomad's variable specification files, for `var put @spec.nv.hcl` (or `-`, stdin), `var get
// -out hcl` and `var init` (docs/variables.md, "CLI"): HCL with `path`, `namespace`, the
// server's indexes and times, and `items`; or the variable's JSON as `var get -out json`
// prints it.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "drover/common/result.hpp"

namespace drover::cli {

struct VarSpec {
  std::string ns, path;  // empty: not given
  std::map<std::string, std::string> items;
  // The index the spec was read at (`var get` printed it): a put checks it (check-and-set).
  std::optional<std::uint64_t> modify_index;
};

// Reads `text` as `format` ("hcl" or "json"); errors name `origin` and, for HCL, the line.
Result<VarSpec> parse_var_spec(const std::string& text, const std::string& format,
                               const std::string& origin);

// The format of spec file `file`: by its extension (.hcl, .json), else `fallback` (-in).
std::string var_spec_format(const std::string& file, const std::string& fallback);

// A variable (the API's JSON) as Nomad's `-out hcl` writes it, which parse_var_spec reads back.
std::string render_var_hcl(const nlohmann::json& v);

// What `var init` writes: an example specification in HCL, or in JSON.
extern const char* const kVarInitHcl;
extern const char* const kVarInitJson;

}  // namespace drover::cli
