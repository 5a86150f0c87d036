// The syntax tree of an HCL2 native-syntax file, as the reader builds it before anything is
// evaluated: bodies of attributes (each an expression) and labelled blocks. Expressions are
// evaluated later (eval.hpp), once variables and locals are known, and a `dynamic` block's
// content is evaluated once per element, so the tree is kept rather than values.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jobspec/hcl/hcl.hpp"

namespace drover::jobspec::hcl {

// "line L, column C: ", how every message about a place in the file starts.
inline std::string at(Pos p) {
  return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column) + ": ";
}

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

enum class ExprKind {
  Literal,      // value: a number, bool, null or a string without sequences
  Variable,     // name: a root name (`var`, `local`, `each`, `node`, ...)
  GetAttr,      // a.name
  Index,        // a[b]
  Splat,        // a.* / a[*]: `each` applied to every element of a (SplatItem stands for it)
  SplatItem,    // the element inside a splat's `each`
  Call,         // name(args...), expand_last for `f(list...)`
  Unary,        // op: "!" or "-"
  Binary,       // op: "+", "==", "&&", ...
  Conditional,  // a ? b : c
  Tuple,        // [a, b]
  Object,       // {k = v}: items as key/value pairs
  For,          // [for k, v in c : e if f] / {for k, v in c : ke => ve... if f}
  Template,     // "a ${b} c": parts, each a Literal or an expression or a directive
  TemplateIf,   // %{ if c }...%{ else }...%{ endif }: a = then, b = else (both Templates)
  TemplateFor,  // %{ for k, v in c }...%{ endfor }: a = collection, b = body (Template)
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  Pos pos;
  int height = 1;        // of the tree below: the reader caps it, so evaluation cannot overflow
  nlohmann::json value;  // Literal
  std::string name;      // Variable, GetAttr, Call, Unary/Binary op
  ExprPtr a, b, c;       // operands; Index: a[b]; Conditional: a ? b : c; For: collection a
  std::vector<ExprPtr> items;                      // Tuple items, Call arguments, Template parts
  std::vector<std::pair<ExprPtr, ExprPtr>> pairs;  // Object items
  bool expand_last = false;                        // Call `f(x...)`
  bool full_splat = false;                         // Splat `[*]` (also takes [i] after it)
  // For and TemplateFor: `for key_var, value_var in a`, key_var empty when only one is named.
  std::string key_var, value_var;
  ExprPtr key, cond;      // For: the object key expression (object form) and the `if` filter
  bool object = false;    // For: `{for ...}`
  bool grouping = false;  // For: `value...`
};

struct SyntaxBlock;

struct SyntaxAttribute {
  std::string name;
  ExprPtr expr;
  Pos pos;  // of the name
};

struct SyntaxBody {
  std::vector<SyntaxAttribute> attributes;
  std::vector<SyntaxBlock> blocks;
};

struct SyntaxBlock {
  std::string type;
  std::vector<std::string> labels;
  SyntaxBody body;
  Pos pos;  // of the type name
};

// The tree of a whole file. Errors: "line L, column C: what" (the first: after a syntax error
// nothing that follows can be trusted). Nesting deeper than max_depth is refused.
drover::Result<SyntaxBody> parse_syntax(std::string_view text, int max_depth = 64);

// A file that is one template (templatefile()): its text with `${...}` and `%{...}`.
drover::Result<ExprPtr> parse_template(std::string_view text, int max_depth = 64);

// One expression alone (a `-var` value of a list, map or object type), to its end.
drover::Result<ExprPtr> parse_expression(std::string_view text, int max_depth = 64);

}  // namespace drover::jobspec::hcl
