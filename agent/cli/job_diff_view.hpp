// Nomad's job diff (server/job_plan.hpp) printed as `nomad job plan` prints it: "+" added,
// "-" deleted, "+/-" edited, indented by nesting, with each group's planned changes.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

namespace drover::cli {

// `updates` is the plan's Annotations.DesiredTGUpdates (may be null).
void print_job_diff(std::ostream& out, const nlohmann::json& diff, const nlohmann::json& updates);

}  // namespace drover::cli
