// The leader's read-plan-commit loop; see plan_committer.hpp.
#include "server/plan_committer.hpp"

#include <spdlog/spdlog.h>

#include "drover/common/encoding.hpp"
#include "server/cluster_state.hpp"
#include "server/leader_election.hpp"
#include "server/scheduler.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using nlohmann::json;

PlanCommitter::PlanCommitter(upstream::EtcdConfig cfg, Keys keys, LeaderElection& election,
                             SchedulerConfig defaults)
    : cfg_(std::move(cfg)), keys_(std::move(keys)), election_(election),
      defaults_(std::move(defaults)) {}

void PlanCommitter::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void PlanCommitter::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (election_.is_leader()) pass();
    std::unique_lock lock(mu_);
    // A tick bounds how long a node that went, a status that changed or a reschedule delay
    // that ran out waits to be seen.
    cv_.wait_for(lock, stop, std::chrono::milliseconds(500), [&] { return woken_; });
    woken_ = false;
  }
}

void PlanCommitter::pass() {
  upstream::EtcdClient etcd(cfg_);
  auto range = etcd.range_prefix(keys_.all());
  if (!range) {
    spdlog::warn("server: reading the cluster: {}", range.message());
    return;
  }
  auto state = read_cluster_state(range.value(), keys_);
  state.use_scheduler_defaults(defaults_);
  // Planned from what etcd says, not what this server believes: it must be the leader there.
  if (state.leader_value != election_.me()) return;
  auto plan = plan_cluster(state, keys_, state::now_ns());
  if (plan.empty()) return;
  auto b64 = [](const std::string& s) { return base64_encode(s); };
  const std::string next = std::to_string(state.revision + 1);
  // Planned from the revision read: nothing under these prefixes may have changed since (a
  // job registered, a promotion, a drain the operator ended meanwhile), or the plan is void.
  json compare = json::array({{{"key", b64(keys_.leader())},
                               {"target", "VALUE"},
                               {"result", "EQUAL"},
                               {"value", b64(election_.me())}}});
  for (const std::string& prefix :
       {keys_.allocs(), keys_.jobs(), keys_.deployments(), keys_.node_controls()})
    compare.push_back({{"key", b64(prefix)},
                       {"range_end", b64(upstream::EtcdClient::prefix_end(prefix))},
                       {"target", "MOD"},
                       {"result", "LESS"},
                       {"mod_revision", next}});
  json success = json::array();
  for (const auto& [k, v] : plan.puts)
    success.push_back({{"request_put", {{"key", b64(k)}, {"value", b64(v)}}}});
  auto r = etcd.txn({{"compare", compare}, {"success", success}});
  if (!r) {
    spdlog::warn("server: writing the plan: {}", r.message());
    return;
  }
  if (!r.value().value("succeeded", false)) {
    spdlog::info("server: the cluster changed since revision {}; planning again", state.revision);
    wake();
    return;
  }
  spdlog::info("server: plan at revision {}: {} placed, {} stopped, {} lost, {} preempted",
               state.revision, plan.placed, plan.stopped, plan.lost, plan.preempted);
}

}  // namespace drover::server
