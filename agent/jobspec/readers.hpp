// The two job file readers behind parse_job(); internal to the jobspec library.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "jobspec/parse.hpp"

namespace drover::jobspec::detail {

// YAML with a top-level `job:`. Fills `job` with what it could read (defaults applied) and
// appends every problem found, with YAML-form paths. False when there is no job to validate.
bool read_yaml_job(std::string_view text, Job& job, std::vector<Problem>& problems);

// Nomad's JSON job format, already parsed: doc["Job"]. Problems use "Job.TaskGroups[0]..."
// paths. False when there is no job to validate.
bool read_nomad_json_job(const nlohmann::json& doc, Job& job, std::vector<Problem>& problems);

}  // namespace drover::jobspec::detail
