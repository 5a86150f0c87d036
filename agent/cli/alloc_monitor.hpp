// What `drover job run` does after submitting (unless -detach): watch the new allocations
// until each is running or finished, and say how each one ended up.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cli/command_context.hpp"

namespace drover::cli {

struct AllocMonitorTiming {
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds give_up_after{30'000};
};

// Polls GET /v1/allocation/:id for each id and prints one line per alloc once it settles.
// Returns 0 when none failed, 2 when any failed or was lost (Nomad's non-zero exit on a
// failed placement), 1 when the agent could not be asked.
int monitor_allocations(Context& ctx, const std::vector<std::string>& alloc_ids,
                        const AllocMonitorTiming& timing);

}  // namespace drover::cli
