// The server's Prometheus metrics; see metrics_api.hpp.
#include "server/metrics_api.hpp"

#include <map>

#include "api/metrics_text.hpp"
#include "api/json_reply.hpp"
#include "server/api_support.hpp"
#include "server/cluster_counts.hpp"
#include "server/leader_election.hpp"
#include "server/plan_committer.hpp"

namespace drover::server {

namespace {

std::string render(const ServerApiContext& ctx, const ClusterCounts& c) {
  api::Metrics w;
  w.set(w.gauge("drover_server_leader", "1 while this server is the cluster's leader."), {},
        ctx.election && ctx.election->is_leader() ? 1 : 0);
  auto& job_family = w.gauge("drover_server_jobs", "Jobs by status.");
  for (const auto& [status, n] : c.jobs) w.set(job_family, {{"status", status}}, n);
  auto& alloc_family = w.gauge("drover_server_allocs", "Allocations by client status.");
  for (const auto& [status, n] : c.allocs) w.set(alloc_family, {{"client_status", status}}, n);
  auto& node_family = w.gauge("drover_server_nodes", "Nodes by status and scheduling eligibility.");
  for (const auto& [k, n] : c.nodes)
    w.set(node_family, {{"status", k.first}, {"eligibility", k.second}}, n);
  auto& eval_family = w.gauge("drover_server_evals", "Evaluations by status.");
  for (const auto& [status, n] : c.evals) w.set(eval_family, {{"status", status}}, n);
  if (const PlanStats* p = ctx.plan_stats) {
    w.set(w.counter("drover_server_plan_passes_total", "Passes of the leader's loop here."), {},
          static_cast<double>(p->passes.load()));
    w.set(w.counter("drover_server_plan_pass_seconds_total", "Seconds spent in those passes."),
          {}, p->pass_seconds.load());
    w.set(w.gauge("drover_server_plan_pass_last_seconds", "The last pass's duration."), {},
          p->last_pass_seconds.load());
    w.set(w.counter("drover_server_plan_commits_total",
                    "Plans committed to etcd (a pass that changed something)."),
          {}, static_cast<double>(p->commits.load()));
    w.set(w.counter("drover_server_plan_commit_seconds_total",
                    "Seconds spent committing plans (every transaction of each)."),
          {}, p->commit_seconds.load());
    w.set(w.gauge("drover_server_plan_commit_last_seconds", "The last plan commit's latency."),
          {}, p->last_commit_seconds.load());
    w.set(w.counter("drover_server_view_reloads_total",
                    "Whole reads of the cluster by the leader's watch-fed view (the first, and "
                    "each after the watch broke or a plan's guard failed)."),
          {}, static_cast<double>(p->view_reloads.load()));
    auto& reads = w.counter("drover_server_leader_reads_total",
                            "Reads of the cluster on this server while it led: from a copy of "
                            "the leader's view, or from etcd (the view behind or busy).");
    w.set(reads, {{"from", "view"}}, static_cast<double>(p->reads_from_view.load()));
    w.set(reads, {{"from", "etcd"}}, static_cast<double>(p->reads_from_etcd.load()));
  }
  return w.text();
}

}  // namespace

void register_metrics_route(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/metrics", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (api::refuse_metrics_format(req, res)) return;
    // The leader counts its own view (a scrape of a large cluster read and parsed all of etcd
    // each time); any other server reads the prefix once.
    if (ctx.leader_counts)
      if (auto counts = ctx.leader_counts()) return api::reply_metrics(res, render(ctx, *counts));
    auto st = read_state(ctx);
    if (!st) return api::reply_error(res, 503, st.message());
    api::reply_metrics(res, render(ctx, count_cluster(*st.value())));
  });
}

}  // namespace drover::server
