// The server's Prometheus metrics; see metrics_api.hpp.
#include "server/metrics_api.hpp"

#include <map>

#include "api/metrics_text.hpp"
#include "server/api_support.hpp"
#include "server/leader_election.hpp"
#include "server/plan_committer.hpp"

namespace drover::server {

namespace {

std::string render(const ServerApiContext& ctx, const ClusterState& st) {
  api::Metrics w;
  w.set(w.gauge("drover_server_leader", "1 while this server is the cluster's leader."), {},
        ctx.election && ctx.election->is_leader() ? 1 : 0);
  // Every label value present even at zero, so a dashboard's series do not come and go.
  std::map<std::string, int> jobs = {{"pending", 0}, {"running", 0}, {"dead", 0}};
  for (const auto& [key, rec] : st.jobs) jobs[job_status(st, key, rec)]++;
  auto& job_family = w.gauge("drover_server_jobs", "Jobs by status.");
  for (const auto& [status, n] : jobs) w.set(job_family, {{"status", status}}, n);
  std::map<std::string, int> allocs = {{"pending", 0}, {"running", 0}, {"complete", 0},
                                       {"failed", 0},  {"lost", 0}};
  for (const auto& [id, a] : st.allocs) allocs[a.client_status()]++;
  auto& alloc_family = w.gauge("drover_server_allocs", "Allocations by client status.");
  for (const auto& [status, n] : allocs) w.set(alloc_family, {{"client_status", status}}, n);
  // A node is up while its key lives on its lease: the ones etcd holds are ready; by the
  // operator's say, eligible or not, draining or not.
  std::map<std::pair<std::string, std::string>, int> nodes = {
      {{"ready", "eligible"}, 0}, {{"ready", "ineligible"}, 0}};
  for (const auto& [id, node] : st.nodes) {
    auto c = st.controls.find(id);
    bool eligible = c == st.controls.end() ||
                    c->second.value("Eligibility", "eligible") == "eligible";
    nodes[{"ready", eligible ? "eligible" : "ineligible"}]++;
  }
  auto& node_family = w.gauge("drover_server_nodes", "Nodes by status and scheduling eligibility.");
  for (const auto& [k, n] : nodes)
    w.set(node_family, {{"status", k.first}, {"eligibility", k.second}}, n);
  std::map<std::string, int> evals;
  for (const auto& [id, e] : st.evals) evals[e.value("Status", "pending")]++;
  auto& eval_family = w.gauge("drover_server_evals", "Evaluations by status.");
  for (const auto& [status, n] : evals) w.set(eval_family, {{"status", status}}, n);
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
  }
  return w.text();
}

}  // namespace

void register_metrics_route(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/metrics", with_state(ctx, [&ctx](const ClusterState& st, const httplib::Request& req,
                                               httplib::Response& res) {
          if (api::refuse_metrics_format(req, res)) return;
          api::reply_metrics(res, render(ctx, st));
        }));
}

}  // namespace drover::server
