// Getting a task's image onto the node: the local image when present, `load` from a tarball
// in the task dir (offline nodes), else a pull with the task's registry auth.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "docker_client.hpp"
#include "task_config.hpp"

namespace drover::docker {

// Percent-encodes a query or path component.
std::string url_encode(const std::string& s);

// Reports a pull to the task's events: its message and details ("image", and the byte
// counts once known).
using PullEventFn = std::function<void(const std::string& message,
                                       const std::map<std::string, std::string>& details)>;

// A pull reports its start, its progress at most every `progress_interval`, and its end
// through `on_event`. Throws std::runtime_error: "pulling image X: <registry error>",
// "loading image tarball ...".
void ensure_image(const DockerClient& client, const TaskConfig& cfg, const std::string& task_dir,
                  std::chrono::milliseconds pull_timeout,
                  std::chrono::milliseconds progress_interval, const PullEventFn& on_event);

}  // namespace drover::docker
