// Turns a task (the agent's task JSON plus its parsed docker Config) into the body of
// POST /containers/create: image, command, env, labels, resources, mounts, security.
#pragma once

#include <nlohmann/json.hpp>

#include "drover/sdk/task_spec.hpp"

#include "plugin_config.hpp"
#include "task_config.hpp"

namespace drover::docker {

// Labels every container of drover carries, for recovery and the dangling-container reaper.
inline constexpr const char* kLabelAllocID = "com.drover.alloc_id";
inline constexpr const char* kLabelTask = "com.drover.task";
inline constexpr const char* kLabelJobID = "com.drover.job_id";
// The task's AllocDir: tells which agent (whose alloc dirs are under its data dir) made it.
inline constexpr const char* kLabelAllocDir = "com.drover.alloc_dir";
// Marks the pause container that holds an alloc's network namespace (network.cpp).
inline constexpr const char* kLabelInfra = "com.drover.infra";
// The network label (the start call's NetworkLabels) naming that container, as Nomad names it.
inline constexpr const char* kNetLabelSandbox = "docker_sandbox_container_id";

// Whether the task joins the alloc's network with the alloc's hostname: its /etc/hosts is then
// <state dir>/hosts, written by the driver (drover/sdk/hostname.hpp), bound read-only.
bool joins_alloc_hosts(const sdk::TaskSpec& task, const TaskConfig& cfg);

// Throws std::runtime_error (naming the key) for what can only be checked with the task's
// paths: a relative volume or bind source that resolves outside the alloc dir.
nlohmann::json container_create_body(const sdk::TaskSpec& task, const TaskConfig& cfg,
                                     const PluginConfig& plugin);

// A group network's dns block as a container's HostConfig Dns, DnsSearch and DnsOptions (the
// task's own container in host mode, the pause container in bridge or none mode).
void apply_dns(const sdk::TaskDns& dns, nlohmann::json& host_config);

// A docker-safe container name: "<task>-<alloc_id>" with other characters replaced.
std::string container_name(const sdk::TaskSpec& task);

}  // namespace drover::docker
