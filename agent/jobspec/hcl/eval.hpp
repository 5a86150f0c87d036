// Evaluating HCL expressions (ast.hpp) into JSON values, internal to jobspec/hcl/. Values are
// cty's, held as JSON: strings, numbers (integers stay integers), bools, null, lists (tuples
// and sets too) and objects (maps too). A reference only the agent can resolve (`node.class`,
// `attr.cpu.arch`, `NOMAD_ALLOC_ID`, `meta["rack"]`) is not an error: it becomes the text
// `${...}` that the agent interpolates when the task starts. Errors are EvalError with the
// position of the expression that failed.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobspec/hcl/ast.hpp"

namespace drover::jobspec::hcl {

struct EvalError {
  Pos pos;
  std::string message;
  bool limit = false;  // an EvalLimits bound was hit: try() and can() do not catch it
};

// "line L, column C: message"
std::string describe(const EvalError& e);

// The names an expression can see: `var`, `local`, a for expression's or a dynamic block's
// iterator, templatefile()'s variables. A child scope sees its parents' names too.
class Scope {
 public:
  explicit Scope(const Scope* parent = nullptr) : parent_(parent) {}
  void set(std::string name, nlohmann::json value) { names_[std::move(name)] = std::move(value); }
  const nlohmann::json* find(std::string_view name) const;
  // This scope's own value of `name`, to grow in place (locals, one at a time).
  nlohmann::json& own(const std::string& name) { return names_[name]; }

 private:
  const Scope* parent_;
  std::map<std::string, nlohmann::json, std::less<>> names_;
};

// Bounds on what one file's evaluation may do, so that a hostile file cannot make the agent
// spin or allocate without end (docs/jobspec.md, "HCL job files").
struct EvalLimits {
  std::size_t max_file_bytes = 1024 * 1024;        // file(), templatefile()
  std::size_t max_value_bytes = 16 * 1024 * 1024;  // one string or list built by evaluation
  std::size_t max_steps = 1'000'000;               // expressions evaluated, all together
  int max_template_depth = 8;                      // templatefile() inside templatefile()
};

class Evaluator {
 public:
  // base_dir: where file() and templatefile() paths are relative to (the job file's folder);
  // empty: the file functions are refused (the agent never reads its own files for a job).
  explicit Evaluator(std::string base_dir = "", EvalLimits limits = {})
      : base_dir_(std::move(base_dir)), limits_(limits) {}

  nlohmann::json eval(const Expr& e, const Scope& scope);  // throws EvalError

  const std::string& base_dir() const { return base_dir_; }
  const EvalLimits& limits() const { return limits_; }
  // templatefile(): renders a template file's tree with only `vars` in scope.
  nlohmann::json render_file_template(const Expr& tree, const nlohmann::json& vars, Pos at);
  // Raises EvalError when a value built by evaluation passes max_value_bytes.
  void check_size(std::size_t bytes, Pos at) const;

 private:
  std::string base_dir_;
  EvalLimits limits_;
  std::size_t steps_ = 0;
  int template_depth_ = 0;
  std::vector<const nlohmann::json*> splat_items_;

  const nlohmann::json* reference(const Expr& e, const Scope& scope);
  nlohmann::json eval_for(const Expr& e, const Scope& scope);
  nlohmann::json eval_splat(const Expr& e, const Scope& scope);
  nlohmann::json eval_binary(const Expr& e, const Scope& scope);
  nlohmann::json eval_call(const Expr& e, const Scope& scope);
  nlohmann::json get_attr(const Expr& e, const Scope& scope);
  nlohmann::json index(const Expr& e, const Scope& scope);
  // `node.class` -> "node.class" when its root is a name only the agent knows; any_root: in a
  // template, where every name not in scope but var and local is kept for the agent.
  std::optional<std::string> runtime_reference(const Expr& e, const Scope& scope, bool any_root);
  // template.cpp
  nlohmann::json eval_template(const Expr& e, const Scope& scope);
  void render(const Expr& part, const Scope& scope, std::string& out);
};

// ---- values (expr.cpp), shared by the evaluator, templates and functions ----

// "string", "number", "bool", "null", "list", "object": what a message calls a value.
std::string type_name(const nlohmann::json& v);
// A string, or a number or bool as its text, as HCL converts them; otherwise EvalError.
std::string as_string(const nlohmann::json& v, Pos at, std::string_view what);
// A number, or a string holding one; otherwise EvalError.
nlohmann::json as_number(const nlohmann::json& v, Pos at, std::string_view what);
double as_double(const nlohmann::json& v, Pos at, std::string_view what);
std::int64_t as_integer(const nlohmann::json& v, Pos at, std::string_view what);
bool as_bool(const nlohmann::json& v, Pos at, std::string_view what);
// A number as HCL prints it: 3, 1.5, 1e+30.
std::string number_text(const nlohmann::json& v);
// A double that holds a whole number comes back as an integer.
nlohmann::json normalize_number(double d);

// ---- functions (functions.cpp) ----

// Calls the HCL function `name`; an unknown name gets "did you mean".
nlohmann::json call_function(Evaluator& ev, const std::string& name,
                             std::vector<nlohmann::json>& args, Pos at);
// Every function's name, sorted: what docs/jobspec.md lists.
std::vector<std::string_view> function_names();

}  // namespace drover::jobspec::hcl

namespace drover::jobspec::hcl {

// ---- bodies (decode.cpp) ----

// Evaluates every attribute of `body` and expands its `dynamic` blocks (for_each, iterator,
// labels, content), recursively, with `scope`'s names. Every attribute's error is appended to
// `errors` ("line L, column C: what") and the attribute left out. Top-level blocks whose type
// is in `skip` are left out (variable, locals: the caller has read them).
Body decode_body(const SyntaxBody& body, Evaluator& ev, const Scope& scope,
                 std::vector<std::string>& errors, const std::vector<std::string_view>& skip = {});

}  // namespace drover::jobspec::hcl
