// Dynamic host volumes (Nomad 1.10's `volume create` and `volume register` of type "host";
// docs/volumes.md): volumes an operator makes on a node through the API rather than its
// config. `create` runs a plugin: the built-in `mkdir` (a directory <volumes_dir>/<id>) or an
// executable in <plugin_dir> speaking Nomad's protocol (DHV_* environment, JSON on stdout);
// `register` takes a directory made some other way. Each is kept in the state store (meta
// key host_volume/<id>) and joins the config's host_volume blocks under its name: a job's
// `volume { type = "host", source = NAME }` mounts it alike. Read by every thread that
// admits or starts a job; changed by the API: one mutex, and a generation that moves on each
// change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"
#include "runner/host_volumes.hpp"

namespace drover::state {
class StateStore;
}

namespace drover::runner {

struct DynamicHostVolume {
  std::string id, name, ns = "default", plugin_id, host_path;
  int64_t capacity_bytes = 0, capacity_min_bytes = 0, capacity_max_bytes = 0;
  std::map<std::string, std::string> parameters;
  // Nomad's RequestedCapabilities: {access mode, attachment mode} pairs the volume offers.
  std::vector<std::pair<std::string, std::string>> capabilities;
  // Nomad's Constraints: where the volume may be made, judged on the node's attributes, meta
  // and identity as a job's (runner/constraints.hpp).
  std::vector<jobspec::Constraint> constraints;
  int64_t create_time_ns = 0, modify_time_ns = 0;
};

// A volume's Constraints ([{LTarget, Operand, RTarget}]) read and checked: an operator Nomad
// knows that compares values (distinct_hosts and distinct_property count allocs, and a volume
// has none), and a right-hand side it can read. Problems name "Volume.Constraints[i]...".
Result<std::vector<jobspec::Constraint>> volume_constraints(const nlohmann::json& list);

// Nomad's HostVolume JSON (ID, Name, Namespace, PluginID, NodeID, NodePool, HostPath, State,
// CapacityBytes, RequestedCapacityMinBytes/MaxBytes, RequestedCapabilities, Parameters, ...).
nlohmann::json to_json(const DynamicHostVolume& v, const std::string& node_id,
                       const std::string& node_pool);
// A create or register request's {"Volume": {...}} read and checked: every problem names its
// field (Volume.Name, Volume.PluginID, ...).
Result<DynamicHostVolume> volume_from_request(const nlohmann::json& body, bool registering);

class DynamicHostVolumes {
 public:
  struct Options {
    std::filesystem::path volumes_dir;  // where `mkdir` makes its directories
    std::filesystem::path plugin_dir;   // external plugins, by file name
    std::string node_id, node_pool;
  };
  // `configured`: the agent config's host_volume blocks, whose names a dynamic one cannot take.
  DynamicHostVolumes(Options opts, HostVolumes configured, state::StateStore* store);

  // Reads the kept volumes; an unreadable one is an error naming its key.
  Status load();
  // Makes the volume with its plugin and keeps it; the same name and plugin again is the same
  // volume (Nomad's create is idempotent by name). 400 for a bad request, 409 for a name taken.
  Result<DynamicHostVolume> create(DynamicHostVolume v);
  // Keeps a volume whose directory exists already (host_path).
  Result<DynamicHostVolume> register_existing(DynamicHostVolume v);
  // Runs the plugin's delete and forgets the volume. The caller checks no alloc uses it.
  Status remove(const std::string& id);

  std::vector<DynamicHostVolume> list() const;
  std::optional<DynamicHostVolume> get(const std::string& id) const;
  std::optional<DynamicHostVolume> by_name(const std::string& name) const;
  // The config's volumes with the dynamic ones beside them (each with its id).
  HostVolumes merged() const;
  const HostVolumes& configured() const { return configured_; }
  uint64_t generation() const;
  const Options& options() const { return opts_; }

 private:
  Status keep_locked(const DynamicHostVolume& v);
  Result<std::pair<std::string, int64_t>> run_create(const DynamicHostVolume& v) const;
  Status run_delete(const DynamicHostVolume& v) const;

  const Options opts_;
  const HostVolumes configured_;
  state::StateStore* store_;
  mutable std::mutex mu_;
  std::map<std::string, DynamicHostVolume> by_id_;
  uint64_t generation_ = 0;
};

}  // namespace drover::runner
