// One consistent read of the cluster: every key under the prefix at one etcd revision, sorted
// into nodes, jobs, allocs (with the status their node reported), evaluations and servers.
// The scheduler plans from it and its writes check `revision` (docs/cluster.md, "Placement").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "server/job_doc.hpp"
#include "server/keys.hpp"
#include "server/scheduler_config.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

struct ClusterState;

struct AllocView {
  std::string id, node_id;
  // The alloc key's value (what the server wrote), but for its "Job" and "Metrics".
  nlohmann::json alloc;
  // Its Job: one text shared with its version's record and every alloc of that version
  // (job_doc.hpp), so 10,000 allocs of one job hold one copy and a pass copies allocs cheaply.
  JobDoc job;
  // Its "Metrics" (the placement's scores, for `alloc status -verbose`) kept as text: no pass
  // reads them, and as JSON they would be most of the alloc's memory.
  std::shared_ptr<const std::string> metrics;
  nlohmann::json status = nullptr;  // the node's status key, when it wrote one
  std::string key;

  // Holds an alloc key's value: its Job and Metrics taken out as above (the Job unshared).
  void take(nlohmann::json value);
  // The alloc key's value as etcd holds it: the alloc with its Metrics and Job.
  std::string text() const;
  // The same as JSON, with its Job or without.
  nlohmann::json value(bool with_job) const;

  std::string desired() const { return alloc.value("DesiredStatus", "run"); }
  // "lost" or "unknown" when the server marked it so (its node went down: disconnect.hpp),
  // else what the node reported, else "pending".
  std::string client_status() const;
  // "<namespace>/<job id>", worked out once (an alloc never changes job): a pass asks every
  // alloc's.
  const std::string& job_key() const {
    if (job_key_.empty())
      job_key_ = alloc.value("Namespace", "default") + "/" + alloc.value("JobID", "");
    return job_key_;
  }
  std::string group() const { return alloc.value("TaskGroup", ""); }
  int index() const;  // from Name "job.group[3]"
  // Holds (or will hold) node resources: desired to run and not finished on its node.
  bool live() const;

 private:
  mutable std::string job_key_;
};

// A node whose key is gone (its lease lapsed) but whose record (keys.hpp node_record) stays:
// the node as it last registered, or as the leader marked it down since (node_records.hpp).
struct DownNode {
  nlohmann::json record;
  int64_t revision = 0;  // the record key's mod revision: a mark or a GC is guarded by it
};

struct ClusterState {
  int64_t revision = 0;
  // A snapshot restore is under way (Keys::restoring): the leader makes no pass.
  bool restoring = false;
  std::map<std::string, nlohmann::json> nodes;    // by node id: the live ones (key present)
  std::map<std::string, DownNode> down_nodes;     // by node id: known, key gone
  std::set<std::string> stop_requests;            // alloc ids an operator asked to stop
  std::map<std::string, AllocView> allocs;        // by alloc id
  std::map<std::string, JobRecord> jobs;          // by "<namespace>/<id>": the job record
  std::map<std::string, nlohmann::json> evals;    // by eval id
  // Every version of every job ("<namespace>/<id>" -> version -> record), for auto_revert.
  // A version's Job is the job record's, or its allocs', when the text is the same.
  std::map<std::string, std::map<int, JobRecord>> job_versions;
  std::map<std::string, nlohmann::json> deployments;  // by deployment id
  std::map<std::string, nlohmann::json> servers;  // by server name
  // The operator's control of each node (keys.hpp node_control): Eligibility, Drain and the
  // drain's Deadline, StartedAt (ns), IgnoreSystemJobs; LastDrain once a drain completed.
  std::map<std::string, nlohmann::json> controls;
  // Nomad's JobModifyIndex of each job ("<namespace>/<id>"): the etcd revision its current
  // version was first written at (its job_versions key's create revision); never 0, so that
  // `job run -check-index 0` means "no such job" as in Nomad.
  std::map<std::string, int64_t> job_modify_index;
  // The mod revision of each job's key as read: the leader's writes for a job are guarded by
  // it (plan_committer.hpp), so a job registered, stopped or purged since voids them.
  std::map<std::string, int64_t> job_key_revision;
  // Each periodic job's last launch (keys.hpp periodic_launch), by "<namespace>/<id>".
  std::map<std::string, nlohmann::json> periodic_launches;
  std::string leader_value;                       // the leader key's value, "" when none
  // The leader key's create revision: one per term (each election writes the key anew), so
  // a plan made in one term cannot be written in a later term of the same server.
  int64_t leader_created = 0;
  // The stored scheduler configuration (scheduler_stored), else Nomad's defaults until the
  // reader puts its server.yaml's in (use_scheduler_defaults).
  SchedulerConfig scheduler;
  bool scheduler_stored = false;

  // Kept by ClusterStateIndex (so empty in a state built by hand, `indexed` false): the ids of
  // each job's allocs, evaluations and deployments, of each node's allocs, and the job keys of
  // the periodic and of the system and sysbatch jobs.
  bool indexed = false;
  std::map<std::string, std::set<std::string>> allocs_by_job, allocs_by_node;
  std::map<std::string, std::set<std::string>> evals_by_job, deployments_by_job;
  std::set<std::string> periodic_jobs, system_jobs;

  // What may need reconciling since the leader's last pass (docs/cluster.md, "Placement"):
  // marked by ClusterStateIndex as keys change, taken and refilled by the leader's pass
  // (plan_cluster_in_place). Every other job was satisfied then and nothing it depends on
  // changed since.
  struct Changes {
    bool all = true;             // a whole read: every job
    std::set<std::string> jobs;  // job keys: the job, its versions, allocs, evals, deployments
    std::set<std::string> nodes;  // node ids whose key or control changed (their allocs' jobs
                                  // and every system job are in `jobs` too)
    std::set<std::string> usage;  // node ids whose usage is to be worked out again: its key or
                                  // control changed
    // (node id, alloc id) of each alloc put, erased or whose status changed: its node's usage
    // takes it off and adds it again as it is now.
    std::set<std::pair<std::string, std::string>> allocs;
  } changes;

  void use_scheduler_defaults(const SchedulerConfig& defaults) {
    if (!scheduler_stored) scheduler = defaults;
  }
};

ClusterState read_cluster_state(const upstream::EtcdRange& range, const Keys& keys);

// The Job of `jk`'s `version` as `st` holds it: the job record's when that is the version,
// else the version record's; none when neither has it.
JobDoc version_job(const ClusterState& st, const std::string& jk, int version);

// A ClusterState kept up to date key by key: read_cluster_state puts every key of a range
// once; the leader's watch-fed view (cluster_view.hpp) puts and erases what changed since.
// Keeps what the state derives from several keys (a node with its control, an alloc with its
// status, a job's modify index) and shares one Job document among the allocs of a version.
class ClusterStateIndex {
 public:
  explicit ClusterStateIndex(Keys keys) : keys_(std::move(keys)) { st_.indexed = true; }
  void put(const upstream::EtcdKv& kv);
  void erase(const std::string& key);
  ClusterState& state() { return st_; }

 private:
  void merge_node(const std::string& id);
  void update_modify_index(const std::string& jk);
  // ClusterState::changes: a job whose inputs changed; a node that did (its allocs' jobs and
  // every system job with it).
  void mark(const std::string& jk);
  void node_changed(const std::string& id);
  void unindex_alloc(const std::string& id);
  // A version's Job as its holders share it (JobDocShelf).
  JobDoc shared(const std::string& jk, int version, JobDoc doc) {
    return docs_.share(jk, version, std::move(doc));
  }
  // A register writes the job record and its new version's record alike, the record first: a
  // version's key whose text is the record's, byte for byte, is taken from the record without
  // parsing. The version taken, or nothing.
  std::optional<int> version_as_record(const std::string& jk, const std::string& version,
                                       const std::string& text);

  Keys keys_;
  ClusterState st_;
  std::map<std::string, nlohmann::json> raw_nodes_;  // as their agents wrote them
  // Every node record's mod revision. A live node's record is not held (it is its node key's
  // text, written in the same transaction); it is taken from the node key when the key goes.
  std::map<std::string, int64_t> record_revisions_;
  // Status keys whose alloc the state does not hold (by alloc id): one written before its
  // alloc, or left by an alloc key erased. An alloc the state holds has its status in
  // AllocView::status, not here too (10,000 statuses held twice were 9 MiB of the leader's).
  std::map<std::string, nlohmann::json> statuses_;
  std::map<std::string, std::map<int, int64_t>> version_created_;  // job -> version -> rev
  std::map<std::string, std::pair<std::string, int>> version_keys_;  // key -> job, version
  JobDocShelf docs_;  // one Job text per "<ns>/<job>" and version, shared by its holders
};

// Nomad's job status: dead when stopped or every alloc is done, running when one is live (or
// it is a periodic or parameterized parent, which launches children), pending otherwise.
std::string job_status(const ClusterState& st, const std::string& jk, const JobRecord& rec);

// The refusal of Nomad's EnforceIndex on register (`job run -check-index`), in Nomad's words;
// "" when `index` matches: 0 for a job that does not exist, else the job's JobModifyIndex.
std::string enforce_index_problem(const ClusterState& st, const std::string& jk, int64_t index);

// A node as the API shows it: `raw` with the operator's eligibility and drain (`control`, the
// node's control key, may be null) as Nomad shows them.
nlohmann::json node_with_control(nlohmann::json raw, const nlohmann::json* control);

// A node ready for placements: its key is there (its lease lives), Status ready, eligible.
bool node_ready(const nlohmann::json& node);

}  // namespace drover::server
