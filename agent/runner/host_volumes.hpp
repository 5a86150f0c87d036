// The node's host volumes (docs/jobspec.md, "volumes"): the agent config's
// `host_volume "name" { path, read_only }`, which a group's `volume { type = "host", source }`
// names and a task's `volume_mount` binds into an isolated task. Only what an operator listed
// is ever mounted: a job names a volume, never a host path.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"

namespace drover::runner {

struct HostVolume {
  std::string path;  // absolute, an existing directory or file on this host
  bool read_only = false;
  std::string id;  // a dynamic volume's (dynamic_host_volumes.hpp); "" for the config's
  // A dynamic volume's capabilities: {access mode, attachment mode} pairs; empty: any.
  std::vector<std::pair<std::string, std::string>> capabilities;  // VolumeCapabilities
  std::string ns, plugin_id;  // a dynamic volume's namespace and plugin ("" for the config's)
  bool operator==(const HostVolume&) const = default;
};

using HostVolumes = std::map<std::string, HostVolume>;
using VolumeCapabilities = std::vector<std::pair<std::string, std::string>>;

// Nomad's [{AccessMode, AttachmentMode}] list, and back (an entry that is not an object is
// skipped).
nlohmann::json capabilities_to_json(const VolumeCapabilities& caps);
VolumeCapabilities capabilities_from_json(const nlohmann::json& list);

// The host volumes (by name) the group writes to as their single writer: its requests with
// access_mode "single-node-single-writer" that are not read-only. Nomad lets one alloc at a
// time write to such a volume; readers may share it (docs/volumes.md, "Access modes").
std::vector<std::string> single_writer_sources(const jobspec::TaskGroup& group);

// Checks one configured volume: an absolute path without "..", that exists. The error says
// what is wrong with the path ("/srv/data: does not exist").
Status check_host_volume(const HostVolume& v);

}  // namespace drover::runner
