// The server's etcd key schema under the configured prefix (docs/cluster.md, "Keys"). The
// node, alloc and status keys are the agent's contract; jobs, versions, evals, the leader and
// the server members are the server's own.
#pragma once

#include <string>

namespace drover::server {

struct Keys {
  std::string prefix;  // "/drover"

  std::string all() const { return prefix + "/"; }
  std::string nodes() const { return prefix + "/nodes/"; }
  // A node's last registration, kept without a lease: how a node that went down stays known
  // (`node status` shows it down) until node GC (server/node_records.hpp). Written by its
  // agent with the node key, marked down by the leader.
  std::string node_records() const { return prefix + "/node_records/"; }
  std::string node_record(const std::string& node) const { return node_records() + node; }
  std::string allocs() const { return prefix + "/allocs/"; }
  std::string alloc(const std::string& node, const std::string& id) const {
    return prefix + "/allocs/" + node + "/" + id;
  }
  std::string status() const { return prefix + "/status/"; }
  // An operator's request to stop an alloc and have it placed anew (`alloc stop`, POST
  // /v1/allocation/:id/stop): {"At": ns}. The leader's pass acts on it; GC deletes it with its
  // alloc.
  std::string alloc_stops() const { return prefix + "/alloc_stops/"; }
  std::string alloc_stop(const std::string& id) const { return alloc_stops() + id; }
  // The current version of a job, with its Stop flag and SubmitTime.
  std::string job(const std::string& ns, const std::string& id) const {
    return prefix + "/jobs/" + ns + "/" + id;
  }
  std::string jobs() const { return prefix + "/jobs/"; }
  // Every version ever registered, for /v1/job/:id/versions (Nomad's `job history`).
  std::string job_version(const std::string& ns, const std::string& id, int version) const {
    return prefix + "/job_versions/" + ns + "/" + id + "/" + std::to_string(version);
  }
  std::string job_versions(const std::string& ns, const std::string& id) const {
    return prefix + "/job_versions/" + ns + "/" + id + "/";
  }
  std::string job_versions_all() const { return prefix + "/job_versions/"; }
  // A periodic job's last launch, {"Launch": unix s, "Until": unix s}: written by the leader in
  // the txn that writes the child, so that a leader change never launches it twice.
  std::string periodic_launches() const { return prefix + "/periodic_launch/"; }
  std::string periodic_launch(const std::string& ns, const std::string& id) const {
    return periodic_launches() + ns + "/" + id;
  }
  // Rolling updates: Nomad's Deployment, one per job version that has an update block.
  std::string deployments() const { return prefix + "/deployments/"; }
  std::string deployment(const std::string& id) const { return deployments() + id; }
  std::string evals() const { return prefix + "/evals/"; }
  std::string eval(const std::string& id) const { return prefix + "/evals/" + id; }
  std::string leader() const { return prefix + "/leader"; }
  // Written by `operator snapshot restore` while it puts a snapshot back: the leader makes no
  // pass and no GC, and a plan read before it cannot commit (server/snapshot.hpp).
  std::string restoring() const { return prefix + "/restoring"; }
  // Nomad's SchedulerConfiguration as an operator stored it (server/scheduler_config.hpp).
  std::string scheduler_config() const { return prefix + "/scheduler_config"; }
  std::string servers() const { return prefix + "/servers/"; }
  // The operator's say on a node, kept apart from the node key (which its agent rewrites):
  // {"Eligibility": "eligible"|"ineligible", "Drain": bool}.
  std::string node_controls() const { return prefix + "/node_controls/"; }
  std::string node_control(const std::string& node) const { return node_controls() + node; }
  std::string server(const std::string& name) const { return prefix + "/servers/" + name; }
  // Node pools an operator described (`node pool apply`): {Name, Description, Meta,
  // CreateTime, ModifyTime}. A pool a node names exists without one (server/node_pools_api.hpp).
  std::string node_pools() const { return prefix + "/node_pools/"; }
  std::string node_pool(const std::string& name) const { return node_pools() + name; }
  // ACL tokens shared by every server, one key per accessor id, the secret only as its hash
  // (api/etcd_token_store.hpp, which names them from the etcd prefix alone); the bootstrap key marks that the first token was made.
  std::string acl_tokens() const { return prefix + "/acl/tokens/"; }
  std::string acl_token(const std::string& accessor) const { return acl_tokens() + accessor; }
  std::string acl_bootstrap() const { return prefix + "/acl/bootstrap"; }
};

}  // namespace drover::server
