// The reconciler; see scheduler.hpp.
#include "server/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "jobspec/job.hpp"
#include "server/placement.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

constexpr int64_t kSecond = 1000000000LL;

}  // namespace

std::optional<int64_t> reschedule_at_ns(const std::string& job_type, int reschedule_count,
                                        int64_t failed_at_ns) {
  if (job_type == "batch") {
    // Batch: 1 attempt within 24h, 5s constant delay.
    if (reschedule_count >= 1) return std::nullopt;
    return failed_at_ns + 5 * kSecond;
  }
  if (job_type == "service") {
    // Service: unlimited, 30s exponential delay up to 1h.
    int64_t delay = 30 * kSecond;
    for (int i = 0; i < reschedule_count && delay < 3600 * kSecond; ++i) delay *= 2;
    return failed_at_ns + std::min(delay, 3600 * kSecond);
  }
  return std::nullopt;  // system and sysbatch are not rescheduled (Nomad neither)
}

namespace {

struct JobPass {
  const ClusterState& st;
  const Keys& keys;
  int64_t now;
  std::map<std::string, AllocView> allocs;  // a copy, changed as the plan goes
  std::map<std::string, NodeUsage> usage;
  std::vector<const json*> ready;      // sorted by node id
  std::map<std::string, json> writes;  // key -> value, the plan so far
  Plan plan;

  void write_alloc(const AllocView& a) { writes[a.key] = a.alloc; }

  void stop(AllocView& a, const std::string& why) {
    a.alloc["DesiredStatus"] = "stop";
    a.alloc["DesiredDescription"] = why;
    a.alloc["ModifyTime"] = now;
    write_alloc(a);
    plan.stopped++;
  }

  std::string place(const jobspec::Job& job, const json& job_json, int version, std::size_t gi,
                    int index, const std::string& eval_id, const json* prev,
                    const std::string* only_node, PlacementMetrics& metrics) {
    const auto& g = job.groups[gi];
    Ask ask = ask_of(g);
    std::vector<const json*> candidates;
    if (only_node) {
      for (const json* n : ready)
        if (n->value("ID", "") == *only_node) candidates.push_back(n);
    } else {
      candidates = ready;
    }
    auto node_id = pick_node(job, gi, candidates, usage, ask, metrics);
    if (!node_id) return "";
    const json& node = st.nodes.at(*node_id);
    AllocView a;
    a.id = random_uuid();
    a.node_id = *node_id;
    a.key = keys.alloc(*node_id, a.id);
    a.alloc = {{"ID", a.id},
               {"Name", job.id + "." + g.name + "[" + std::to_string(index) + "]"},
               {"Namespace", job.namespace_name},
               {"JobID", job.id},
               {"TaskGroup", g.name},
               {"NodeID", *node_id},
               {"NodeName", node.value("Name", "")},
               {"JobVersion", version},
               {"EvalID", eval_id},
               {"DesiredStatus", "run"},
               {"CreateTime", now},
               {"ModifyTime", now},
               {"Resources", ask_to_json(ask)},
               {"Metrics", metrics.to_json()},
               {"Job", job_json}};
    if (prev) {
      a.alloc["PreviousAllocation"] = prev->value("ID", "");
      a.alloc["RescheduleCount"] = prev->value("RescheduleCount", 0) + 1;
    }
    usage[*node_id].add(a.job_key(), g.name, a.alloc["Resources"]);
    write_alloc(a);
    allocs[a.id] = a;
    plan.placed++;
    return a.id;
  }

  // The job's evaluations that are still open (pending or blocked), oldest first.
  std::vector<json> open_evals(const std::string& ns, const std::string& id) {
    std::vector<json> out;
    for (const auto& [eid, e] : st.evals)
      if (e.value("JobID", "") == id && e.value("Namespace", "default") == ns &&
          (e.value("Status", "") == "pending" || e.value("Status", "") == "blocked"))
        out.push_back(e);
    std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
      return a.value("CreateTime", int64_t{0}) < b.value("CreateTime", int64_t{0});
    });
    return out;
  }

  void job(const std::string& jk, const json& rec) {
    jobspec::Job job;
    try {
      job = jobspec::job_from_json(rec.at("Job"));
    } catch (const std::exception& e) {
      spdlog::warn("server: job {} cannot be read: {}", jk, e.what());
      return;
    }
    const json& job_json = rec["Job"];
    const int version = rec.value("Version", 0);
    const std::string type = jobspec::to_string(job.type);
    auto evals = open_evals(job.namespace_name, job.id);
    const std::string eval_id = evals.empty() ? random_uuid() : evals.front().value("ID", "");
    const std::size_t writes_before = writes.size();
    std::string trigger = "job-register";
    std::vector<std::string> placed;
    json failed = json::object();
    std::string failed_summary;

    std::vector<AllocView*> mine;
    for (auto& [id, a] : allocs)
      if (a.job_key() == jk) mine.push_back(&a);

    if (rec.value("Stop", false) || jobspec::launches_children(job)) {
      for (auto* a : mine)
        if (a->desired() == "run") stop(*a, "alloc is not needed since the job was stopped");
    } else {
      // Groups the job no longer has.
      for (auto* a : mine) {
        bool known = false;
        for (const auto& g : job.groups) known |= g.name == a->group();
        if (!known && a->desired() == "run") stop(*a, "alloc is not needed: its group is gone");
      }
      for (std::size_t gi = 0; gi < job.groups.size(); ++gi) {
        const auto& g = job.groups[gi];
        PlacementMetrics metrics;
        bool failed_here = false;
        std::vector<AllocView*> group;
        for (auto* a : mine)
          if (a->group() == g.name && a->desired() == "run") group.push_back(a);
        // A new version replaces the old one's allocs (no rolling update yet).
        for (auto* a : group)
          if (a->alloc.value("JobVersion", 0) != version && a->live())
            stop(*a, "alloc is being updated due to job update");
        group.erase(std::remove_if(group.begin(), group.end(),
                                   [](AllocView* a) { return a->desired() != "run"; }),
                    group.end());
        const bool system =
            job.type == jobspec::JobType::System || job.type == jobspec::JobType::SysBatch;
        if (system) {
          for (const json* n : ready) {
            std::string nid = n->value("ID", "");
            // Any alloc of this version meant to run here counts, failed or complete too: a
            // system alloc is not rescheduled (Nomad neither), its node restarts its tasks.
            bool has = false;
            for (auto* a : group)
              if (a->node_id == nid) has = true;
            if (has) continue;
            PlacementMetrics one;
            auto id = place(job, job_json, version, gi, 0, eval_id, nullptr, &nid, one);
            if (!id.empty()) {
              placed.push_back(id);
              if (evals.empty()) trigger = "node-update";
            } else if (!one.dimension_exhausted.empty()) {
              // A node the job's constraints leave out is not a failure (Nomad neither).
              failed_here = true;
              for (const auto& [d, c] : one.dimension_exhausted)
                metrics.dimension_exhausted[d] += c;
              metrics.evaluated += one.evaluated;
              metrics.exhausted += one.exhausted;
            }
          }
        } else {
          std::set<int> satisfied;
          std::vector<std::pair<int, const json*>> to_place;  // index, previous alloc
          std::sort(group.begin(), group.end(), [](AllocView* a, AllocView* b) {
            return a->alloc.value("CreateTime", int64_t{0}) <
                   b->alloc.value("CreateTime", int64_t{0});
          });
          for (auto* a : group) {
            int idx = a->index();
            auto cs = a->client_status();
            if (idx >= g.count) {
              if (a->live()) stop(*a, "alloc not needed due to job update");
              continue;
            }
            if (a->live()) {
              if (satisfied.count(idx)) {
                stop(*a, "alloc not needed: another alloc has its index");
                continue;
              }
              satisfied.insert(idx);
            } else if (cs == "complete") {
              if (job.type == jobspec::JobType::Batch) satisfied.insert(idx);
            } else if (cs == "failed") {
              if (a->alloc.contains("NextAllocation")) continue;
              int64_t failed_at = a->status.is_object() ? a->status.value("ModifyTime", now) : now;
              auto when = reschedule_at_ns(type, a->alloc.value("RescheduleCount", 0), failed_at);
              if (!when) {
                satisfied.insert(idx);  // out of attempts: the index stays failed
              } else if (*when > now) {
                satisfied.insert(idx);  // waiting out the reschedule delay
              } else if (!satisfied.count(idx)) {
                satisfied.insert(idx);
                to_place.push_back({idx, &a->alloc});
                trigger = "alloc-failure";
              }
            }
          }
          // Lost allocs (stopped above when their node went) are replaced at once.
          std::map<int, const json*> lost_prev;
          for (auto* a : mine)
            if (a->group() == g.name && a->client_status() == "lost" &&
                !a->alloc.contains("NextAllocation"))
              lost_prev[a->index()] = &a->alloc;
          for (int idx = 0; idx < g.count; ++idx)
            if (!satisfied.count(idx)) {
              auto lp = lost_prev.find(idx);
              to_place.push_back({idx, lp == lost_prev.end() ? nullptr : lp->second});
              if (lp != lost_prev.end()) trigger = "node-update";
            }
          std::sort(to_place.begin(), to_place.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
          for (const auto& [idx, prev] : to_place) {
            PlacementMetrics one;
            auto id = place(job, job_json, version, gi, idx, eval_id, prev, nullptr, one);
            if (id.empty()) {
              failed_here = true;
              metrics = one;  // every unplaced alloc sees the same nodes
              metrics.evaluated = one.evaluated;
              continue;
            }
            placed.push_back(id);
            if (prev) {
              // The previous alloc points at its replacement, so it is replaced only once.
              auto& old = allocs.at(prev->value("ID", ""));
              old.alloc["NextAllocation"] = id;
              write_alloc(old);
            }
          }
        }
        if (failed_here) {
          auto m = metrics.to_json();
          failed[g.name] = m;
          failed_summary += (failed_summary.empty() ? "" : "; ") + std::string("group \"") +
                            g.name + "\": " + metrics.summary();
        }
      }
    }

    // The evaluation: open ones are resolved; a change with none open gets a new one.
    const bool changed = writes.size() != writes_before;
    const std::string status = failed.empty() ? "complete" : "blocked";
    auto outcome = [&](json e) {
      e["Status"] = status;
      e["StatusDescription"] = failed.empty() ? "" : "placement failed: " + failed_summary;
      e["FailedTGAllocs"] = failed.empty() ? json(nullptr) : failed;
      json prior = e.value("PlacedAllocs", json::array());
      for (const auto& id : placed) prior.push_back(id);
      e["PlacedAllocs"] = prior;
      e["ModifyTime"] = now;
      return e;
    };
    if (!evals.empty()) {
      for (const auto& e : evals) {
        // A blocked eval with the same reasons and nothing placed stays as it is.
        if (e.value("Status", "") == status && placed.empty() &&
            e.value("StatusDescription", "") == outcome(e).value("StatusDescription", ""))
          continue;
        writes[keys.eval(e.value("ID", ""))] = outcome(e);
      }
    } else if (changed || !failed.empty()) {
      json e = {{"ID", eval_id},
                {"Namespace", job.namespace_name},
                {"JobID", job.id},
                {"Type", type},
                {"Priority", job.priority},
                {"TriggeredBy", trigger},
                {"JobModifyIndex", version},
                {"CreateTime", now}};
      writes[keys.eval(eval_id)] = outcome(e);
    }
  }
};

}  // namespace

Plan plan_cluster(const ClusterState& st, const Keys& keys, int64_t now_ns) {
  JobPass pass{st, keys, now_ns, st.allocs, {}, {}, {}, {}};
  for (const auto& [id, node] : st.nodes)
    if (node_ready(node)) pass.ready.push_back(&node);
  // A node whose key is gone (its lease lapsed) is down: what it ran is lost.
  for (auto& [id, a] : pass.allocs) {
    if (a.desired() != "run" || st.nodes.count(a.node_id)) continue;
    auto cs = a.client_status();
    if (cs == "complete" || cs == "failed") continue;
    a.alloc["ClientStatus"] = "lost";
    a.alloc["ClientDescription"] = "alloc is lost since its node is down";
    pass.stop(a, "alloc is lost since its node is down");
    pass.plan.lost++;
    pass.plan.stopped--;
  }
  // A draining node's allocs move: stopped there, placed again elsewhere (all at once; the
  // migrate block's max_parallel is not read yet). System jobs stay, as in Nomad's default.
  for (auto& [id, a] : pass.allocs) {
    auto n = st.nodes.find(a.node_id);
    if (n == st.nodes.end() || !n->second.value("Drain", false) || !a.live()) continue;
    auto type = a.alloc.value("Job", json::object()).value("Type", "service");
    if (type == "system" || type == "sysbatch") continue;
    a.alloc["DesiredTransition"] = {{"Migrate", true}};
    pass.stop(a, "alloc is being migrated: its node is draining");
  }
  for (const auto& [id, a] : pass.allocs)
    if (a.live() && st.nodes.count(a.node_id))
      pass.usage[a.node_id].add(a.job_key(), a.group(), a.alloc.value("Resources", json::object()));
  for (const auto& [jk, rec] : st.jobs) pass.job(jk, rec);
  // A purged job's key is gone: its allocs stop and its evaluations are done.
  for (auto& [id, a] : pass.allocs)
    if (a.desired() == "run" && !st.jobs.count(a.job_key()))
      pass.stop(a, "alloc is not needed since the job was purged");
  for (const auto& [id, e] : st.evals) {
    std::string jk = e.value("Namespace", "default") + "/" + e.value("JobID", "");
    auto status = e.value("Status", "");
    if (st.jobs.count(jk) || (status != "pending" && status != "blocked")) continue;
    json done = e;
    done["Status"] = "complete";
    done["ModifyTime"] = now_ns;
    pass.writes[keys.eval(id)] = done;
  }
  for (auto& [k, v] : pass.writes) pass.plan.puts.emplace_back(k, json_text(v));
  return std::move(pass.plan);
}

}  // namespace drover::server
