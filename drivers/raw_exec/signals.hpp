// Signal names as users write them in jobs ("SIGTERM", "TERM", "sigint", "15") to numbers.
#pragma once

#include <optional>
#include <string_view>

namespace drover::raw_exec {

std::optional<int> signal_number(std::string_view name);

}  // namespace drover::raw_exec
