// How a task event reads in the CLI's "Recent Events" table and in job run's failure lines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace drover::cli {

// DisplayMessage (else Message); a Terminated event also says "Exit Code: N", the signal and
// an OOM kill when the message does not already say so.
std::string describe_task_event(const nlohmann::json& event);

}  // namespace drover::cli
