// The parse tree of a template (Go's text/template/parse node kinds, reduced to what the
// evaluator needs). Every node keeps its byte offset in the source, so that an error names the
// line and column it happened at.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace drover::tmpl {

struct Pipe;
struct Node;
using List = std::vector<Node>;

// One operand of a command: `.A.B`, `$x.A`, `.`, a literal, a function name, or a
// parenthesised pipeline followed by fields (`(index . 0).Name`).
struct Arg {
  enum class Kind { Dot, Field, Variable, Literal, Identifier, Pipe };
  Kind kind = Kind::Literal;
  std::string name;                 // Variable: "$x"; Identifier: the function's name
  std::vector<std::string> fields;  // Field, Variable and Pipe: the chain after it
  nlohmann::json literal;           // Literal: a string, number, bool or null
  std::shared_ptr<Pipe> pipe;       // Pipe
  std::size_t pos = 0;
  std::string text;  // the source text, for "executing ... at <text>"
};

// One command of a pipeline: an operand, and for a function its arguments.
struct Command {
  std::vector<Arg> args;
  std::size_t pos = 0;
};

// `$x := cmd | cmd` or `$x = ...` or a plain pipeline; range may declare two variables.
struct Pipe {
  std::vector<std::string> decl;
  bool assign = false;  // `=`: sets an existing variable instead of declaring one
  std::vector<Command> cmds;
  std::size_t pos = 0;
};

struct Node {
  enum class Kind { Text, Action, If, With, Range, Template, Break, Continue };
  Kind kind = Kind::Text;
  std::string text;                 // Text: the literal text; Template: the template's name
  std::shared_ptr<Pipe> pipe;       // Action, If, With, Range, Template (may be null)
  std::shared_ptr<List> body;       // If, With, Range
  std::shared_ptr<List> else_body;  // may hold one nested If or With for `else if` / `else with`
  std::size_t pos = 0;
};

// A parsed template: its main body and the templates it defines (`define`, `block`).
struct Tree {
  std::string name;
  std::string source;
  List root;
  std::map<std::string, std::shared_ptr<List>> defined;
  std::vector<std::string> functions;  // every function it calls, once each, in order
};

}  // namespace drover::tmpl
