// The server's HTTP API: Nomad's cluster paths (jobs, versions, evaluations, allocations,
// nodes, leader, members). Any server answers reads from etcd; writes go to the leader: a
// follower forwards them to the leader's address, or answers 503 when there is none
// (docs/cluster.md, "Server API").
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/tls_config.hpp"
#include "server/cluster_counts.hpp"
#include "server/keys.hpp"
#include "server/scheduler_config.hpp"
#include "upstream/upstream_config.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace drover::agent {
class LogMonitor;
}

namespace drover::server {

struct ClusterState;
struct JobRecord;
class GuardedWriteBatcher;
class LeaderElection;
struct PlanStats;

struct ServerApiContext {
  upstream::EtcdConfig etcd;
  Keys keys;
  std::string name;
  std::string http_addr;  // http://host:port, or https:// with TLS
  LeaderElection* election = nullptr;
  std::function<void()> wake_scheduler;  // a new eval to look at now
  // server.yaml's scheduler configuration, in force while none is stored in etcd.
  SchedulerConfig scheduler_defaults;
  // The CA and client cert for calls to the leader and to agents (api/tls_transport.hpp).
  api::TlsSettings tls;
  // The leader's loop's measures, for /v1/metrics.
  const PlanStats* plan_stats = nullptr;
  // Set when the server stops: long replies (the event stream) end instead of holding it up.
  const std::atomic<bool>* stopping = nullptr;
  // Registrations written together (write_batcher.hpp); each writes alone when null.
  GuardedWriteBatcher* writes = nullptr;
  // The leader's counts of its own view for /v1/metrics (PlanCommitter::counts); nullopt when
  // this server does not lead.
  std::function<std::optional<ClusterCounts>()> leader_counts;
  // The leader's view copied for a read that must see etcd's revision `min` (PlanCommitter::
  // snapshot); null when this server does not lead or the view cannot serve it.
  std::function<std::shared_ptr<const ClusterState>(int64_t min)> leader_snapshot;
  // This server's own log for GET /v1/agent/monitor (core/log_monitor.hpp).
  agent::LogMonitor* log_monitor = nullptr;
};

void register_server_routes(ServerApiContext& ctx, httplib::Server& s);

// A job as GET /v1/jobs lists it, and a node as GET /v1/nodes does (Nomad's stubs).
nlohmann::json job_stub(const ClusterState& st, const std::string& jk, const JobRecord& rec);
nlohmann::json node_stub(const nlohmann::json& node);
// ?namespace= becomes a part of etcd keys: a value that is not a namespace name is refused
// (400, true) before any route reads it. Called from the server's one pre-routing handler
// (cpp-httplib keeps only one).
bool refuse_bad_namespace(const httplib::Request& req, httplib::Response& res);

}  // namespace drover::server
