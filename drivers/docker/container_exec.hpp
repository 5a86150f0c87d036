// Commands inside a running container, through the Engine API's exec endpoints: what a
// script check, a template's script change_mode and `alloc exec` run in a docker task
// (docs/drivers/docker.md, "Commands inside a task").
#pragma once

#include <chrono>
#include <drover/sdk/driver.hpp>
#include <memory>
#include <string>
#include <vector>

#include "docker_client.hpp"

namespace drover::docker {

// Runs argv in the container as its task runs (the container's user, env and working dir)
// and returns what it printed (at most 4 MiB a stream) and its exit code. Past `timeout` the
// command and what it started are killed and this throws "exec: timed out after N ms".
sdk::ExecResult exec_in_container(const DockerClient& client, const std::string& container_id,
                                  const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout);

// Starts request.argv in the container for the agent to stream (plugin.h,
// drover_driver_exec_stream_v1) and returns at once.
std::unique_ptr<sdk::ExecStream> exec_stream_in_container(
    std::shared_ptr<const DockerClient> client, const std::string& container_id,
    const sdk::ExecStreamRequest& request);

// SIGKILLs `pid` and every process descended from it that is still in the pid namespace of
// `container_pid` (the container's first process): an exec's command and what it started,
// never a process outside the container. pid <= 0 does nothing.
void kill_exec_tree(int pid, int container_pid);

}  // namespace drover::docker
