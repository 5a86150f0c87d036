// raw_exec's `alloc exec` (plugin.h, drover_driver_exec_stream_v1): a command run beside the
// task as the task runs, with what the kernel says of the task's process (/proc/PID): its
// cgroups, user and groups, its initial env and its working dir.
#pragma once

#include <drover/sdk/driver.hpp>
#include <memory>

#include "handle.hpp"

namespace drover::raw_exec {

// Throws std::runtime_error when the task no longer runs or the command cannot start.
std::unique_ptr<sdk::ExecStream> exec_in_task(const monitored::Handle& task,
                                              const sdk::ExecStreamRequest& request);

}  // namespace drover::raw_exec
