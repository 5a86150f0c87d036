// One consistent read of the cluster: every key under the prefix at one etcd revision, sorted
// into nodes, jobs, allocs (with the status their node reported), evaluations and servers.
// The scheduler plans from it and its writes check `revision` (docs/cluster.md, "Placement").
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "server/keys.hpp"
#include "server/scheduler_config.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

struct AllocView {
  std::string id, node_id;
  nlohmann::json alloc;             // the alloc key's value (what the server wrote)
  nlohmann::json status = nullptr;  // the node's status key, when it wrote one
  std::string key;

  std::string desired() const { return alloc.value("DesiredStatus", "run"); }
  // "lost" when the server marked it so (its node went down), else what the node reported,
  // else "pending".
  std::string client_status() const;
  std::string job_key() const {  // "<namespace>/<job id>"
    return alloc.value("Namespace", "default") + "/" + alloc.value("JobID", "");
  }
  std::string group() const { return alloc.value("TaskGroup", ""); }
  int index() const;  // from Name "job.group[3]"
  // Holds (or will hold) node resources: desired to run and not finished on its node.
  bool live() const;
};

struct ClusterState {
  int64_t revision = 0;
  std::map<std::string, nlohmann::json> nodes;    // by node id
  std::map<std::string, AllocView> allocs;        // by alloc id
  std::map<std::string, nlohmann::json> jobs;     // by "<namespace>/<id>": the job record
  std::map<std::string, nlohmann::json> evals;    // by eval id
  // Every version of every job ("<namespace>/<id>" -> version -> record), for auto_revert.
  std::map<std::string, std::map<int, nlohmann::json>> job_versions;
  std::map<std::string, nlohmann::json> deployments;  // by deployment id
  std::map<std::string, nlohmann::json> servers;  // by server name
  // The operator's control of each node (keys.hpp node_control): Eligibility, Drain and the
  // drain's Deadline, StartedAt (ns), IgnoreSystemJobs; LastDrain once a drain completed.
  std::map<std::string, nlohmann::json> controls;
  // Nomad's JobModifyIndex of each job ("<namespace>/<id>"): the etcd revision its current
  // version was first written at (its job_versions key's create revision); never 0, so that
  // `job run -check-index 0` means "no such job" as in Nomad.
  std::map<std::string, int64_t> job_modify_index;
  // Each periodic job's last launch (keys.hpp periodic_launch), by "<namespace>/<id>".
  std::map<std::string, nlohmann::json> periodic_launches;
  std::string leader_value;                       // the leader key's value, "" when none
  // The stored scheduler configuration (scheduler_stored), else Nomad's defaults until the
  // reader puts its server.yaml's in (use_scheduler_defaults).
  SchedulerConfig scheduler;
  bool scheduler_stored = false;
  void use_scheduler_defaults(const SchedulerConfig& defaults) {
    if (!scheduler_stored) scheduler = defaults;
  }
};

ClusterState read_cluster_state(const upstream::EtcdRange& range, const Keys& keys);

// Nomad's job status: dead when stopped or every alloc is done, running when one is live (or
// it is a periodic or parameterized parent, which launches children), pending otherwise.
std::string job_status(const ClusterState& st, const std::string& jk, const nlohmann::json& rec);

// The refusal of Nomad's EnforceIndex on register (`job run -check-index`), in Nomad's words;
// "" when `index` matches: 0 for a job that does not exist, else the job's JobModifyIndex.
std::string enforce_index_problem(const ClusterState& st, const std::string& jk, int64_t index);

// A node ready for placements: its key is there (its lease lives), Status ready, eligible.
bool node_ready(const nlohmann::json& node);

}  // namespace drover::server
