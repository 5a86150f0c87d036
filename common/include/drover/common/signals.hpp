// Signal names as users write them in jobs ("SIGTERM", "TERM", "sigint", "15", "SIGRTMIN+1")
// to numbers: one parser for the job's validation and every driver, so that what a job is
// accepted with is what its driver can send.
#pragma once

#include <optional>
#include <string_view>

namespace drover {

std::optional<int> signal_number(std::string_view name);

}  // namespace drover
