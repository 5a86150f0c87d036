// A reader and evaluator for HCL2's native syntax (HashiCorp's hclsyntax spec), as far as Nomad
// job files need it: bodies of attributes and labelled blocks, literal values, lists, objects,
// templates with `${...}` and `%{ if }`/`%{ for }`, heredocs, comments, operators,
// conditionals, `for` expressions, splats, indexing, function calls and `dynamic` blocks.
// parse() reads a file and evaluates it, into JSON values: references only the agent can
// resolve (`${NOMAD_ALLOC_ID}`, `${attr.kernel.name}`, a bare `node.class`) stay as `${...}`
// text for it to interpolate when the task starts. The tree before evaluation is in ast.hpp;
// Nomad's variables and locals in variables.hpp.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::jobspec::hcl {

struct Pos {
  int line = 1;
  int column = 1;
};

struct Block;

struct Attribute {
  std::string name;
  nlohmann::json value;
  Pos pos;  // of the name
};

// A body keeps attributes and blocks in the order written; a block type may repeat.
struct Body {
  std::vector<Attribute> attributes;
  std::vector<Block> blocks;
};

struct Block {
  std::string type;
  std::vector<std::string> labels;
  Body body;
  Pos pos;  // of the type name
};

// Parses and evaluates a whole file with no variables in scope (`var.x` is then an unknown
// variable). The error is "line L, column C: what": a syntax error stops at the first, an
// evaluation error is given for every attribute that has one. Nesting deeper than max_depth
// is refused.
drover::Result<Body> parse(std::string_view text, int max_depth = 64);

// True when `text`, past blank lines and comments, opens an HCL block at the top level
// (`job "name" {`, `variable "x" {`, `locals {`): how parse_job tells HCL from YAML.
bool looks_like_hcl(std::string_view text);

}  // namespace drover::jobspec::hcl
