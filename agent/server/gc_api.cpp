// Forced and periodic garbage collection; see gc_api.hpp.
#include "server/gc_api.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "api/json_reply.hpp"
#include "server/leader_election.hpp"
#include "server/server_api.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

namespace {

// Whether a snapshot restore is under way (or etcd cannot say): no collection then.
bool restoring(const upstream::EtcdConfig& etcd, const Keys& keys) {
  auto marker = upstream::EtcdClient(etcd).get(keys.restoring());
  return !marker || marker->has_value();
}

void log_collected(const Garbage& g, const char* why) {
  if (g.keys.empty()) return;
  spdlog::info("gc ({}): {} jobs, {} evaluations, {} allocs, {} deployments, {} nodes ({} keys)",
               why, g.jobs, g.evals, g.allocs, g.deployments, g.nodes, g.keys.size());
}

}  // namespace

void register_gc_route(ServerApiContext& ctx, httplib::Server& s) {
  auto gc = [&ctx](const httplib::Request&, httplib::Response& res) {
    if (restoring(ctx.etcd, ctx.keys))
      return api::reply_error(res, 409, "a snapshot restore is under way (or etcd cannot say): try again after it");
    auto g = collect_garbage(ctx.etcd, ctx.keys, GcThresholds::none());
    if (!g) return api::reply_error(res, 503, g.message());
    log_collected(g.value(), "forced");
    // Nomad answers an empty 200; the counts are drover's.
    api::reply_json(res, {{"Jobs", g->jobs},
                          {"Evaluations", g->evals},
                          {"Allocations", g->allocs},
                          {"Deployments", g->deployments},
                     {"Nodes", g->nodes}});
  };
  s.Put("/v1/system/gc", gc);   // Nomad's
  s.Post("/v1/system/gc", gc);  // the CLI's client posts
}

void collect_when_leader(std::stop_token stop, const LeaderElection& election,
                         const upstream::EtcdConfig& etcd, const Keys& keys,
                         std::chrono::nanoseconds interval, const GcThresholds& t) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  while (!cv.wait_for(lock, stop, interval, [] { return false; }) && !stop.stop_requested()) {
    if (!election.is_leader()) continue;
    if (restoring(etcd, keys)) continue;  // server/snapshot.hpp
    auto g = collect_garbage(etcd, keys, t);
    if (!g) spdlog::warn("{}", g.message());
    else log_collected(g.value(), "periodic");
  }
}

}  // namespace drover::server
