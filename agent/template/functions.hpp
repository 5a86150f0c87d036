// The function table every template sees (Go's builtins, consul-template's helpers, Nomad's data
// functions), as the parser checks names against it and the evaluator calls it. Internal to
// agent/template/.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"
#include "template/template.hpp"

namespace drover::tmpl {

// What a function may reach during a render.
struct CallContext {
  const RenderInput& in;
  std::set<std::string>& dependencies;
  bool error_on_missing_key = false;
};

// Arguments in order (a pipeline's value last); a result, or an error that the evaluator
// reports as `error calling NAME: MESSAGE`.
using Function = Result<nlohmann::json> (*)(CallContext&, std::vector<nlohmann::json>&);

// Argument checks shared by the function files, with Go's wording.
Status want_args(const std::vector<nlohmann::json>& args, std::size_t min, std::size_t max);
Result<std::string> string_arg(const nlohmann::json& v);
Result<int64_t> int_arg(const nlohmann::json& v);

// null for a name no template may call.
Function find_function(std::string_view name);
// and, or: evaluated by the evaluator itself (they stop at the first decisive argument).
bool is_lazy_builtin(std::string_view name);

// The functions of one file each (functions_*.cpp) add themselves here.
void add_builtin_functions(std::map<std::string, Function, std::less<>>& table);
void add_string_functions(std::map<std::string, Function, std::less<>>& table);
void add_math_functions(std::map<std::string, Function, std::less<>>& table);
void add_encoding_functions(std::map<std::string, Function, std::less<>>& table);
void add_data_functions(std::map<std::string, Function, std::less<>>& table);

}  // namespace drover::tmpl
