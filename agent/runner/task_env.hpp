// A task's environment: Nomad's runtime variables, the job's env and meta, and `${...}`
// interpolation of them into the driver config and env values. Tasks start from this env
// alone: nothing of the agent's own environment (tokens, cloud credentials) reaches them.
#pragma once

#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "jobspec/job.hpp"
#include "runner/dynamic_host_volumes.hpp"
#include "runner/host_volumes.hpp"
#include "runner/node_meta.hpp"
#include "state/alloc.hpp"

namespace drover::runner {

struct NodeInfo {
  std::string id, name, datacenter;
  std::map<std::string, std::string> attributes;  // "cpu.arch" -> "amd64"
  // The metadata: `live_meta`'s as it is now when set (the agent's, which `node meta apply`
  // changes), else `meta` (a node read back from JSON, a test's).
  std::map<std::string, std::string> meta;
  const NodeMeta* live_meta = nullptr;
  std::string node_class;             // the agent config's node_class ("" when unset)
  std::string node_pool = "default";  // the agent config's node_pool
  // The host volumes: `live_volumes`' (the config's and the dynamic ones) when set, else
  // `host_volumes` (the config's alone, or a node read back from JSON).
  HostVolumes host_volumes;
  const DynamicHostVolumes* live_volumes = nullptr;

  HostVolumes host_volumes_now() const { return live_volumes ? live_volumes->merged() : host_volumes; }

  std::map<std::string, std::string> meta_now() const { return live_meta ? live_meta->merged() : meta; }
  std::optional<std::string> meta_value(const std::string& key) const {
    if (live_meta) return live_meta->get(key);
    auto it = meta.find(key);
    return it == meta.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
};

struct TaskEnvInput {
  const jobspec::Job* job = nullptr;
  const jobspec::TaskGroup* group = nullptr;
  const jobspec::Task* task = nullptr;
  std::string alloc_id;
  std::string alloc_name;
  int alloc_index = 0;
  std::string alloc_dir;    // host path of <alloc>/alloc
  std::string task_dir;     // host path of <alloc>/<task>/local
  std::string secrets_dir;  // host path of <alloc>/<task>/secrets
  const NodeInfo* node = nullptr;
  // The alloc's ports (state::Alloc::networks); null or empty: none.
  const std::vector<state::AllocatedNetwork>* networks = nullptr;
  // The alloc's address in its own network namespace (network mode bridge); "": none.
  std::string alloc_ip;
};

class TaskEnv {
 public:
  explicit TaskEnv(const TaskEnvInput& in);

  // The final env: runtime vars, then the job's env with its values interpolated.
  const std::map<std::string, std::string>& vars() const { return env_; }
  // Replaces ${NOMAD_*}, ${node.*}, ${attr.*}, ${meta.*} and ${env["X"]}; unknown names stay.
  std::string interpolate(const std::string& text) const;
  // The same, with a name that `env` holds (a start request's env, with what hooks added to
  // it: NOMAD_TOKEN, a job's own variables) taken from there first: for the hooks, which
  // interpolate a job's other text (artifacts, template paths, volume_mount destinations).
  std::string interpolate(const std::string& text, const std::map<std::string, std::string>& env) const;
  // Interpolates every string inside a JSON value (keys untouched).
  nlohmann::json interpolate(const nlohmann::json& value) const;

 private:
  std::optional<std::string> lookup(const std::string& name) const;
  std::string interpolate_with(const std::string& text,
                               const std::map<std::string, std::string>* first) const;

  std::map<std::string, std::string> env_;
  const NodeInfo* node_;
};

}  // namespace drover::runner
