// A reader for HCL2's native syntax (HashiCorp's hclsyntax spec), as far as Nomad job files
// need it: bodies of attributes and labelled blocks, literal values, lists, objects, strings
// with escapes, heredocs and comments. Values are evaluated as they are read, into JSON:
// runtime interpolations (`${NOMAD_ALLOC_ID}`, `${attr.kernel.name}`) stay in the text for the
// agent to resolve when the task starts, and a bare reference (`node.class`) becomes its
// `${...}` form. What needs an evaluator (operators, conditionals, `for`, function calls,
// `var.`/`local.` references, `%{` directives) is refused with its line and column.
#pragma once

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

// Parses a whole file. The error is "line L, column C: what" (first error only: after a
// syntax error nothing that follows can be trusted). Nesting deeper than max_depth is refused.
drover::Result<Body> parse(std::string_view text, int max_depth = 64);

// True when `text`, past blank lines and comments, opens an HCL block at the top level
// (`job "name" {`, `variable "x" {`, `locals {`): how parse_job tells HCL from YAML.
bool looks_like_hcl(std::string_view text);

}  // namespace drover::jobspec::hcl
