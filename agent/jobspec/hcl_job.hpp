// HCL job files with what only the caller knows: the values of their variables (-var,
// -var-file, NOMAD_VAR_*, the API's "Variables") and the folder that file() and
// templatefile() read from. parse_job(text) reads an HCL job with none of these.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobspec/hcl/variables.hpp"
#include "jobspec/parse.hpp"

namespace drover::jobspec {

struct HclJobOptions {
  hcl::VariableInputs variables;
  // The job file's folder, where file() and templatefile() read; empty (the agent's case):
  // those functions are refused.
  std::string base_dir;
};

struct HclJsonResult {
  std::optional<nlohmann::json> doc;  // {"Job": {...}}, set only when problems is empty
  std::vector<Problem> problems;
};

// The Nomad JSON an HCL job file means, as `nomad job run -output` prints it: variables,
// locals and functions evaluated, blocks mapped; not yet checked as a job (parse_job does).
HclJsonResult hcl_to_nomad_json(std::string_view text, const HclJobOptions& options);

// parse_job() for a job file that may be HCL with variables: the same checks and problems.
ParseResult parse_job(std::string_view text, const HclJobOptions& options);

}  // namespace drover::jobspec
