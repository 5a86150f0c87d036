// Garbage collection of the cluster's state, as Nomad's core scheduler does it (docs/cluster.md,
// "Garbage collection"): without it etcd keeps every evaluation, every stopped or finished
// alloc and every dead job for ever. The leader collects every `gc_interval`; `PUT
// /v1/system/gc` (`drover system gc`) collects at once, ignoring the ages.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "server/cluster_state.hpp"
#include "server/keys.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::server {

// How old a thing must be before it goes (Nomad's server defaults).
struct GcThresholds {
  std::chrono::nanoseconds job = std::chrono::hours(4);          // job_gc_threshold
  std::chrono::nanoseconds eval = std::chrono::hours(1);         // eval_gc_threshold
  std::chrono::nanoseconds batch_eval = std::chrono::hours(24);  // batch_eval_gc_threshold
  std::chrono::nanoseconds deployment = std::chrono::hours(1);   // deployment_gc_threshold
  std::chrono::nanoseconds node = std::chrono::hours(24);        // node_gc_threshold
  // `system gc`: everything collectable, whatever its age.
  static GcThresholds none() { return {{}, {}, {}, {}, {}}; }
};

// The keys to delete and how many of each kind they hold.
struct Garbage {
  std::vector<std::string> keys;
  int jobs = 0, evals = 0, allocs = 0, deployments = 0, nodes = 0;
};

// What can go now (pure: unit tested on a state):
// - a job that is stopped or dead (every alloc finished), with no evaluation pending or
//   blocked, last touched longer ago than `job`: its key, every version, its periodic launch
//   record, and its finished allocs, evaluations and deployments; so too the versions of a
//   purged job once nothing of it runs;
// - of a job that stays: a finished evaluation (complete, failed, cancelled) older than `eval`
//   (`batch_eval` for a batch job) whose allocs have all finished; a finished alloc (complete,
//   failed, lost) older than that which was stopped, evicted or replaced (a batch job's
//   completed allocs stay with their job: they are its result); a finished deployment older
//   than `deployment` that is not the job's latest;
// - a node marked down (node_records.hpp) longer ago than `node`, with no alloc on it that is
//   not terminal (desired to run and not finished, or `unknown`): its record and its control.
// An alloc goes with its node's status key and an operator's stop request of it.
Garbage find_garbage(const ClusterState& st, const Keys& keys, int64_t now_ns,
                     const GcThresholds& t);

// Reads the cluster, deletes its garbage in transactions of at most 64 keys, job keys first,
// each written only if none of its keys changed since the read (a key touched meanwhile waits
// for the next collection); returns what was deleted.
Result<Garbage> collect_garbage(const upstream::EtcdConfig& etcd, const Keys& keys,
                                const GcThresholds& t);

}  // namespace drover::server
