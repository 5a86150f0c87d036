// The leader's read-plan-commit loop; see plan_committer.hpp.
#include "server/plan_committer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "server/cluster_state.hpp"
#include "server/leader_election.hpp"
#include "server/node_records.hpp"
#include "server/periodic_launches.hpp"
#include "server/scheduler.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// Below etcd's defaults (--max-txn-ops 128, --max-request-bytes 1.5 MiB), with room for the
// guard's compares and the request's own framing.
constexpr std::size_t kMaxTxnPuts = 120;
constexpr std::size_t kMaxTxnBytes = 1 << 20;

// The plan's puts, in job order, cut into [begin, end) ranges of `order` that etcd takes as
// one transaction each; a put over the byte limit by itself goes alone (etcd then says why).
// Each put concerns at most one job, so a batch's per-job compares are at most its puts.
std::vector<std::pair<std::size_t, std::size_t>> txn_batches(
    const std::vector<std::pair<std::string, std::string>>& puts,
    const std::vector<std::size_t>& order) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t begin = 0, bytes = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& put = puts[order[i]];
    const std::size_t size = put.first.size() + put.second.size();
    if (i > begin && (i - begin == kMaxTxnPuts || bytes + size > kMaxTxnBytes)) {
      out.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (begin < order.size()) out.emplace_back(begin, order.size());
  return out;
}

}  // namespace

PlanCommitter::PlanCommitter(upstream::EtcdConfig cfg, Keys keys, LeaderElection& election,
                             SchedulerConfig defaults)
    : cfg_(std::move(cfg)), keys_(std::move(keys)), election_(election),
      defaults_(std::move(defaults)), view_(cfg_, keys_, [this] { wake(); }) {}

PlanCommitter::~PlanCommitter() { view_.release(); }

void PlanCommitter::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void PlanCommitter::run(std::stop_token stop) {
  bool was_leader = false;
  // A tick bounds how long a node that went, a status that changed or a reschedule delay that
  // ran out waits to be seen. A wake or the tick makes a pass; reads alone are answered
  // without one.
  constexpr auto kTick = std::chrono::milliseconds(500);
  bool plan = true;
  auto next_tick = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    if (plan) next_tick = std::chrono::steady_clock::now() + kTick;
    const bool leader = election_.is_leader();
    // A new leader trusts nothing it saw before; a server that no longer leads keeps no view.
    if (leader && !was_leader) view_.resync();
    if (!leader && was_leader) view_.release();
    was_leader = leader;
    if (leader && plan) {
      const auto t0 = std::chrono::steady_clock::now();
      pass();
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
      stats_.passes++;
      stats_.pass_seconds += took.count();
      stats_.last_pass_seconds = took.count();
      stats_.view_reloads = view_.reloads();
      answer_counts();
    }
    answer_snapshots();  // none when this server no longer leads
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, stop, next_tick, [&] { return woken_ || !snapshot_requests_.empty(); });
    plan = woken_ || std::chrono::steady_clock::now() >= next_tick;
    woken_ = false;
  }
}

std::optional<ClusterCounts> PlanCommitter::counts(std::chrono::milliseconds wait) {
  if (!election_.is_leader()) return std::nullopt;
  std::unique_lock lock(mu_);
  const auto ticket = ++counts_asked_;
  woken_ = true;
  cv_.notify_all();
  if (!counted_.wait_for(lock, wait, [&] { return counts_made_ >= ticket; })) return std::nullopt;
  return counts_;
}

std::shared_ptr<const ClusterState> PlanCommitter::snapshot(int64_t min_revision,
                                                            std::chrono::milliseconds wait) {
  if (!election_.is_leader()) return nullptr;
  auto request = std::make_shared<SnapshotRequest>();
  request->min_revision = min_revision;
  std::unique_lock lock(mu_);
  snapshot_requests_.push_back(request);
  cv_.notify_all();
  snapshotted_.wait_for(lock, wait, [&] { return request->answered; });
  // Not answered in time: withdrawn, so that the loop copies nothing for nobody.
  std::erase(snapshot_requests_, request);
  (request->state ? stats_.reads_from_view : stats_.reads_from_etcd)++;
  return request->state;
}

void PlanCommitter::answer_snapshots() {
  std::vector<std::shared_ptr<SnapshotRequest>> requests;
  {
    std::lock_guard lock(mu_);
    requests.swap(snapshot_requests_);
  }
  if (requests.empty()) {
    if (last_copy_.state && std::chrono::steady_clock::now() - last_read_ > std::chrono::seconds(30))
      last_copy_ = {};
    return;
  }
  last_read_ = std::chrono::steady_clock::now();
  int64_t needed = 0;
  for (const auto& r : requests) needed = std::max(needed, r->min_revision);
  // The watch is milliseconds behind a write; a revision written outside the prefix never
  // comes, and those reads go to etcd after this short wait.
  ClusterState* view = view_.current_if(needed, std::chrono::milliseconds(20));
  if (!view) {
    for (const auto& r : requests)
      if (auto v = view_.current_if(r->min_revision, std::chrono::milliseconds(0))) view = v;
  }
  std::shared_ptr<const ClusterState> copy;
  if (view) {
    const LastCopy now{nullptr, view->revision, stats_.commits.load(), view_.reloads()};
    if (last_copy_.state && last_copy_.revision == now.revision &&
        last_copy_.commits == now.commits && last_copy_.reloads == now.reloads) {
      copy = last_copy_.state;
    } else {
      const auto t0 = std::chrono::steady_clock::now();
      view->use_scheduler_defaults(defaults_);
      // Its lazily worked-out fields filled in here, before readers on other threads share it.
      for (const auto& [id, a] : view->allocs) (void)a.job_key();
      copy = std::make_shared<const ClusterState>(*view);
      last_copy_ = now;
      last_copy_.state = copy;
      spdlog::debug("server: the view copied for {} read(s) at revision {} in {} ms", requests.size(),
                    now.revision,
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
    }
  } else {
    last_copy_ = {};
  }
  std::lock_guard lock(mu_);
  for (const auto& r : requests) {
    if (copy && copy->revision >= r->min_revision) r->state = copy;
    r->answered = true;
  }
  snapshotted_.notify_all();
}

void PlanCommitter::answer_counts() {
  std::uint64_t asked;
  {
    std::lock_guard lock(mu_);
    asked = counts_asked_;
    if (asked == counts_made_) return;
  }
  auto viewed = view_.current(committed_revision_);
  std::optional<ClusterCounts> c;
  if (viewed) c = count_cluster(*viewed.value());
  std::lock_guard lock(mu_);
  counts_ = std::move(c);
  counts_made_ = asked;
  counted_.notify_all();
}

void PlanCommitter::pass() {
  // At least this server's last commit: a plan from before it would be voided by the guard.
  auto viewed = view_.current(committed_revision_);
  if (!viewed) {
    spdlog::warn("server: reading the cluster: {}", viewed.message());
    return;
  }
  ClusterState& state = *viewed.value();
  state.use_scheduler_defaults(defaults_);
  // Planned from what etcd says, not what this server believes: it must be the leader there.
  if (state.leader_value != election_.me()) return;
  // A snapshot restore puts the cluster back key by key: nothing is planned from a half.
  if (state.restoring) return;
  const int64_t now = state::now_ns();
  // Nodes whose key lapsed since: their records marked down (node_records.hpp). Apart from
  // the plan: no plan's guard covers the records, and a mark refused is made next pass.
  if (auto marks = down_marks(state, keys_, now); !marks.empty()) {
    upstream::EtcdClient etcd(cfg_);
    if (auto n = write_down_marks(etcd, keys_, state, election_.me(), marks); !n)
      spdlog::warn("server: {}", n.message());
  }
  // Periodic children launched in the same txn: a leader that lost the key, or a state that
  // moved on, launches nothing. They are placed by the next pass. Judged on the state read,
  // before the plan changes the view's allocs.
  auto launches = periodic_launches(state, keys_, now);
  auto plan = plan_cluster_in_place(state, keys_, now, memory_);
  if (plan.empty() && launches.puts.empty()) return;
  // Unless every batch is written, the view holds allocs etcd does not: read it again.
  struct Doubt {
    ClusterView& view;
    bool written = false;
    ~Doubt() {
      if (!written) view.resync();
    }
  } doubt{view_};
  upstream::EtcdClient etcd(cfg_);
  // Planned from the revision read, in this term of this server's leadership: the leader key
  // must hold this server's value and the create revision it had then (a plan delayed across
  // a lost and regained leadership, with another leader's allocs written in between, is
  // void). Only a leader writes allocs, so their prefix needs no compare of its own (it cost
  // etcd a scan of every alloc key per transaction, most of its CPU with 10,000 allocs).
  // Nothing under the prefixes that the API writes may have changed since (a promotion, a
  // drain the operator ended meanwhile), nor any job the batch writes for (a job registered
  // again, stopped or purged): then the plan is void. A job that nothing in the batch concerns
  // may change meanwhile (a new job registered): the next pass plans it. The periodic
  // launches' batch also holds every job key to the revision read.
  std::map<std::string, int64_t> rewritten;  // job key -> the revision this plan wrote it at
  auto guard = [&](int64_t revision, const std::set<std::string>& jobs, bool all_jobs) {
    json compare = leader_term(keys_, election_.me(), state.leader_created);
    compare.push_back(upstream::txn::absent(keys_.restoring()));  // no restore began since the read
    std::vector<std::string> prefixes = {keys_.deployments(), keys_.node_controls(),
                                         keys_.periodic_launches()};
    if (all_jobs) prefixes.push_back(keys_.jobs());
    for (const std::string& prefix : prefixes)
      compare.push_back(upstream::txn::prefix_unchanged_since(
          prefix, upstream::EtcdClient::prefix_end(prefix), revision));
    for (const auto& jk : jobs) {
      if (jk.empty()) continue;
      // As read (0: the key was absent, and must still be), or as an earlier batch of this
      // plan wrote it (a deployment's verdict marks the job stable).
      auto mine = rewritten.find(jk);
      auto seen = state.job_key_revision.find(jk);
      const int64_t mod = mine != rewritten.end()             ? mine->second
                          : seen == state.job_key_revision.end() ? 0
                                                                 : seen->second;
      auto slash = jk.find('/');
      if (slash == std::string::npos) continue;
      compare.push_back(
          upstream::txn::modified_at(keys_.job(jk.substr(0, slash), jk.substr(slash + 1)), mod));
    }
    return compare;
  };
  // etcd refuses a transaction of more than 128 puts or compares, or 1.5 MiB (its
  // --max-txn-ops and --max-request-bytes defaults), so a large plan goes in batches, each
  // guarded by the revision the one before it wrote: nothing but this leader wrote in between.
  // A batch refused leaves the plan partly written, which the next pass takes as it finds it
  // (the reconciler plans from what etcd holds, so it places only what is still missing). The
  // periodic launches go last and whole, in one transaction: a child's job, its evaluation
  // and the launch record are written together or not at all, so none launches twice.
  std::vector<std::size_t> order(plan.puts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return plan.jobs[a] < plan.jobs[b]; });
  auto batches = txn_batches(plan.puts, order);
  const std::size_t plan_batches = batches.size();
  if (!launches.puts.empty()) {
    batches.emplace_back(order.size(), order.size() + launches.puts.size());
    for (std::size_t i = 0; i < launches.puts.size(); ++i) order.push_back(plan.puts.size() + i);
    plan.puts.insert(plan.puts.end(), launches.puts.begin(), launches.puts.end());
  }
  int64_t revision = state.revision;
  const auto commit_start = std::chrono::steady_clock::now();
  for (std::size_t n = 0; n < batches.size(); ++n) {
    json success = json::array();
    std::set<std::string> jobs;
    for (std::size_t i = batches[n].first; i < batches[n].second; ++i) {
      const auto& [key, value] = plan.puts[order[i]];
      success.push_back(upstream::txn::put(key, value));
      if (n < plan_batches) jobs.insert(plan.jobs[order[i]]);
    }
    auto r = etcd.txn({{"compare", guard(revision, jobs, n >= plan_batches)}, {"success", success}});
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
    committed_revision_ = revision;
    for (std::size_t i = batches[n].first; i < batches[n].second; ++i)
      if (const auto& key = plan.puts[order[i]].first; key.rfind(keys_.jobs(), 0) == 0)
        rewritten[key.substr(keys_.jobs().size())] = revision;
  }
  doubt.written = true;
  const std::chrono::duration<double> committed = std::chrono::steady_clock::now() - commit_start;
  stats_.commits++;
  stats_.commit_seconds += committed.count();
  stats_.last_commit_seconds = committed.count();
  spdlog::info(
      "server: plan at revision {}: {} placed, {} stopped, {} lost, {} unknown, {} preempted ({} "
      "transaction{})",
      state.revision, plan.placed, plan.stopped, plan.lost, plan.unknown, plan.preempted,
      batches.size(),
      batches.size() == 1 ? "" : "s");
  for (const auto& child : launches.launched) spdlog::info("server: launched {}", child);
  if (!launches.launched.empty()) wake();
}

}  // namespace drover::server
