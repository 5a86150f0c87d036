// Nomad's input variables and locals for HCL job files (Nomad's jobspec2): `variable "name"`
// blocks (type, default, description, sensitive, validation), the `variables { name = default }`
// shorthand, `locals` blocks, and the values given from outside the file, in Nomad's order of
// precedence: default < NOMAD_VAR_<name> environment < -var-file files < -var arguments.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobspec/hcl/hcl.hpp"

namespace drover::jobspec::hcl {

struct VariableInputs {
  // NOMAD_VAR_<name>=value from the environment, as (name, value); names the file does not
  // declare are ignored, as Nomad does.
  std::vector<std::pair<std::string, std::string>> env;
  // -var-file files (or the API's "Variables"): (name for messages, HCL text of assignments).
  std::vector<std::pair<std::string, std::string>> files;
  // -var name=value, in the order given; a later one wins.
  std::vector<std::pair<std::string, std::string>> args;
};

// NOMAD_VAR_* of `environ`-style entries ("NOMAD_VAR_image=nginx"), as VariableInputs::env.
std::vector<std::pair<std::string, std::string>> variables_from_environment(char** environ_list);

// Splits "-var" text "name=value" into its parts; an error when there is no '='.
drover::Result<std::pair<std::string, std::string>> split_var_argument(std::string_view arg);

struct EvaluatedFile {
  bool syntax_ok = true;  // false: errors holds the one syntax error
  // false: the variables have errors, and nothing after them was evaluated (each use of a
  // variable without a value would only repeat its error)
  bool body_evaluated = false;
  Body body;                        // the file with variable, variables and locals blocks consumed
  std::vector<std::string> errors;  // "line L, column C: what", or about an input by its name
};

// Reads a job file: its syntax, its variables (every problem at once: a variable without a
// value, a value of the wrong type, a failed validation, an input for an undeclared
// variable), its locals (in dependency order; a circle is an error naming them), then the
// rest of the file with var. and local. in scope. base_dir: where file() and templatefile()
// paths start (the job file's folder); empty: the file functions are refused.
EvaluatedFile evaluate_file(std::string_view text, const VariableInputs& inputs,
                            const std::string& base_dir, int max_depth = 64);

}  // namespace drover::jobspec::hcl
