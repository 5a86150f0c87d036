// The leader's read-plan-commit loop; see plan_committer.hpp.
#include "server/plan_committer.hpp"

#include <spdlog/spdlog.h>

#include "drover/common/encoding.hpp"
#include "server/cluster_state.hpp"
#include "server/leader_election.hpp"
#include "server/periodic_launches.hpp"
#include "server/scheduler.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// Below etcd's defaults (--max-txn-ops 128, --max-request-bytes 1.5 MiB), with room for the
// guard's compares and the request's own framing.
constexpr std::size_t kMaxTxnPuts = 120;
constexpr std::size_t kMaxTxnBytes = 1 << 20;

// The plan's puts cut into [begin, end) ranges that etcd takes as one transaction each; a
// put over the byte limit by itself goes alone (etcd then says why).
std::vector<std::pair<std::size_t, std::size_t>> txn_batches(
    const std::vector<std::pair<std::string, std::string>>& puts) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t begin = 0, bytes = 0;
  for (std::size_t i = 0; i < puts.size(); ++i) {
    const std::size_t size = puts[i].first.size() + puts[i].second.size();
    if (i > begin && (i - begin == kMaxTxnPuts || bytes + size > kMaxTxnBytes)) {
      out.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (begin < puts.size()) out.emplace_back(begin, puts.size());
  return out;
}

}  // namespace

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
    if (election_.is_leader()) {
      const auto t0 = std::chrono::steady_clock::now();
      pass();
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
      stats_.passes++;
      stats_.pass_seconds += took.count();
      stats_.last_pass_seconds = took.count();
    }
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
  const int64_t now = state::now_ns();
  auto plan = plan_cluster(state, keys_, now);
  // Periodic children launched in the same txn: a leader that lost the key, or a state that
  // moved on, launches nothing. They are placed by the next pass.
  auto launches = periodic_launches(state, keys_, now);
  if (plan.empty() && launches.puts.empty()) return;
  auto b64 = [](const std::string& s) { return base64_encode(s); };
  // Planned from the revision read: nothing under these prefixes may have changed since (a
  // job registered, a promotion, a drain the operator ended meanwhile), or the plan is void.
  auto guard = [&](int64_t revision) {
    json compare = json::array({{{"key", b64(keys_.leader())},
                                 {"target", "VALUE"},
                                 {"result", "EQUAL"},
                                 {"value", b64(election_.me())}}});
    for (const std::string& prefix :
         {keys_.allocs(), keys_.jobs(), keys_.deployments(), keys_.node_controls(),
          keys_.periodic_launches()})
      compare.push_back({{"key", b64(prefix)},
                         {"range_end", b64(upstream::EtcdClient::prefix_end(prefix))},
                         {"target", "MOD"},
                         {"result", "LESS"},
                         {"mod_revision", std::to_string(revision + 1)}});
    return compare;
  };
  // etcd refuses a transaction of more than 128 puts or 1.5 MiB (its --max-txn-ops and
  // --max-request-bytes defaults), so a large plan goes in batches, each guarded by the
  // revision the one before it wrote: nothing but this leader wrote in between. A batch
  // refused leaves the plan partly written, which the next pass takes as it finds it (the
  // reconciler plans from what etcd holds, so it places only what is still missing). The
  // periodic launches go last and whole, in one transaction: a child's job, its evaluation
  // and the launch record are written together or not at all, so none launches twice.
  auto batches = txn_batches(plan.puts);
  if (!launches.puts.empty()) {
    batches.emplace_back(plan.puts.size(), plan.puts.size() + launches.puts.size());
    plan.puts.insert(plan.puts.end(), launches.puts.begin(), launches.puts.end());
  }
  int64_t revision = state.revision;
  const auto commit_start = std::chrono::steady_clock::now();
  for (std::size_t n = 0; n < batches.size(); ++n) {
    json success = json::array();
    for (std::size_t i = batches[n].first; i < batches[n].second; ++i)
      success.push_back(
          {{"request_put", {{"key", b64(plan.puts[i].first)}, {"value", b64(plan.puts[i].second)}}}});
    auto r = etcd.txn({{"compare", guard(revision)}, {"success", success}});
    if (!r) {
      spdlog::warn("server: writing the plan (transaction {} of {}, {} puts): {}", n + 1,
                   batches.size(), success.size(), r.message());
      return;
    }
    if (!r.value().value("succeeded", false)) {
      spdlog::info("server: the cluster changed since revision {}; planning again", revision);
      wake();
      return;
    }
    revision = upstream::EtcdClient::header_revision(r.value()).value_or(revision + 1);
  }
  const std::chrono::duration<double> committed = std::chrono::steady_clock::now() - commit_start;
  stats_.commits++;
  stats_.commit_seconds += committed.count();
  stats_.last_commit_seconds = committed.count();
  spdlog::info(
      "server: plan at revision {}: {} placed, {} stopped, {} lost, {} preempted ({} transaction{})",
      state.revision, plan.placed, plan.stopped, plan.lost, plan.preempted, batches.size(),
      batches.size() == 1 ? "" : "s");
  for (const auto& child : launches.launched) spdlog::info("server: launched {}", child);
  if (!launches.launched.empty()) wake();
}

}  // namespace drover::server
