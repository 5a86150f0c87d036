// The reconciler; see scheduler.hpp.
#include "server/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "jobspec/job.hpp"
#include "jobspec/parse.hpp"
#include "server/affinity_score.hpp"
#include "server/deployment.hpp"
#include "server/disconnect.hpp"
#include "server/drain.hpp"
#include "server/in_place.hpp"
#include "server/placement.hpp"
#include "server/reschedule.hpp"
#include "server/spread_score.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// A live alloc as preemption sees it: its job's priority and its group's migrate max_parallel
// (Nomad's default of 1 for a service group without a migrate block, none otherwise).
// From the Job's summary (job_doc.hpp): every live alloc passes here on every pass.
Resident resident_of(const AllocView& a) {
  Resident r{a.id, a.job_key(), a.group()};
  const auto& job = a.job.summary();
  if (job.is_object) {
    r.priority = job.priority;
    r.max_parallel = job.type == "service" ? 1 : 0;
    if (auto m = job.migrate_max_parallel.find(r.group); m != job.migrate_max_parallel.end())
      r.max_parallel = m->second;
  }
  auto res = a.alloc.find("Resources");
  if (res != a.alloc.end() && res->is_object()) {
    r.cpu_mhz = res->value("Cpu", 0);
    r.memory_mb = res->value("MemoryMB", 0);
  }
  return r;
}

// The job a plan's write concerns ("<ns>/<id>"), or "" for none (a node's control key).
std::string job_of_write(const Keys& keys, const std::string& key, const json& value) {
  auto ns = [&] { return value.value("Namespace", "default"); };
  if (key.rfind(keys.jobs(), 0) == 0 || key.rfind(keys.job_versions_all(), 0) == 0)
    return ns() + "/" + value.value("ID", "");
  if (key.rfind(keys.allocs(), 0) == 0 || key.rfind(keys.evals(), 0) == 0 ||
      key.rfind(keys.deployments(), 0) == 0)
    return ns() + "/" + value.value("JobID", "");
  return "";
}

// The id of the evaluation a job's pass writes: its open one's, else one drawn when first
// needed (most passes of a job write none).
class EvalId {
 public:
  explicit EvalId(std::string id = "") : id_(std::move(id)) {}
  const std::string& operator()() {
    if (id_.empty()) id_ = random_uuid();
    return id_;
  }

 private:
  std::string id_;
};

struct JobPass {
  const ClusterState& st;
  const Keys& keys;
  int64_t now;
  // The allocs as the plan changes them: a copy of the state's, or the leader's view's own
  // (plan_cluster_in_place).
  std::map<std::string, AllocView>& allocs;
  // Each node's usage as the plan changes it: the pass's own, or the leader's kept one.
  std::map<std::string, NodeUsage>& usage;
  NodeFactsCache& facts;  // node facts and static verdicts: the pass's own, or the leader's
  // The same allocs by job key (in id order, then as placed), and the state's evaluations and
  // deployments by job key: a pass looks each job's up once, not through every job's.
  std::unordered_map<std::string, std::vector<AllocView*>> allocs_of;
  std::unordered_map<std::string, std::vector<const json*>> evals_of;
  std::unordered_map<std::string, std::vector<std::pair<const std::string*, const json*>>>
      deployments_of;
  // Incremental (the leader's view, plan_cluster_in_place): the three above are filled for a
  // job when first asked, from the state's indexes, rather than for every job up front.
  bool lazy = false;
  std::vector<AllocView*>& allocs_of_job(const std::string& jk) {
    auto [it, fresh] = allocs_of.try_emplace(jk);
    if (fresh && lazy)
      if (auto ids = st.allocs_by_job.find(jk); ids != st.allocs_by_job.end())
        for (const auto& id : ids->second)
          if (auto a = allocs.find(id); a != allocs.end()) it->second.push_back(&a->second);
    return it->second;
  }
  std::vector<const json*>& evals_of_job(const std::string& jk) {
    auto [it, fresh] = evals_of.try_emplace(jk);
    if (fresh && lazy)
      if (auto ids = st.evals_by_job.find(jk); ids != st.evals_by_job.end())
        for (const auto& id : ids->second)
          if (auto e = st.evals.find(id); e != st.evals.end()) it->second.push_back(&e->second);
    return it->second;
  }
  std::vector<std::pair<const std::string*, const json*>>& deployments_of_job(
      const std::string& jk) {
    auto [it, fresh] = deployments_of.try_emplace(jk);
    if (fresh && lazy)
      if (auto ids = st.deployments_by_job.find(jk); ids != st.deployments_by_job.end())
        for (const auto& id : ids->second)
          if (auto d = st.deployments.find(id); d != st.deployments.end())
            it->second.emplace_back(&d->first, &d->second);
    return it->second;
  }
  // The jobs this pass reconciles, highest priority first (then by key, as st.jobs is), and
  // the jobs to look at again in the next pass (ClusterState::changes).
  std::set<std::pair<int, std::string>> queue;
  std::set<std::string> again;
  std::set<std::string> done;
  void enqueue(const std::string& jk) {
    auto rec = st.jobs.find(jk);
    if (rec == st.jobs.end()) return;
    queue.emplace(-rec->second.job.summary().priority, jk);
  }
  JobSpecCache* specs = nullptr;
  std::map<std::string, int> preempted;  // "<job key>/<group>" -> allocs this plan evicts
  std::vector<const json*> ready;        // sorted by node id
  std::map<std::string, json> writes;    // key -> value, the plan so far (but allocs)
  // The allocs written, by key: serialised as they are at the end (AllocView::text), since
  // whatever changes one writes it again. Entries of `allocs`, whose nodes stay put.
  std::map<std::string, const AllocView*> alloc_writes;
  Plan plan;
  std::string deployment_id;  // the running deployment of the job being planned, for new allocs

  // New and updated allocs run the job record's current version: they share its Job's text
  // (job_doc.hpp) rather than hold a copy.
  static void run_current_version(AllocView& a, const JobDoc& job) {
    a.alloc.erase("Job");
    a.job = job;
  }

  void write_alloc(const AllocView& a) { alloc_writes[a.key] = &a; }
  std::size_t write_count() const { return writes.size() + alloc_writes.size(); }

  // A stopped alloc frees its node for the rest of the plan, as Nomad's proposed allocs leave
  // out the plan's stops: its resources, and its count for job anti-affinity.
  void stop(AllocView& a, const std::string& why) {
    a.alloc["DesiredStatus"] = "stop";
    a.alloc["DesiredDescription"] = why;
    a.alloc["ModifyTime"] = now;
    write_alloc(a);
    if (auto u = usage.find(a.node_id); u != usage.end()) u->second.remove(a.id);
    plan.stopped++;
  }

  std::string place(const jobspec::Job& job, const JobDoc& job_doc, int version, std::size_t gi,
                    int index, EvalId& eval_id, const json* prev,
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
    // Sticky host volumes (Nomad's): the index goes where its last alloc's volumes are, by ID;
    // with their node gone it waits for it (docs/volumes.md).
    const bool has_sticky = std::any_of(g.volumes.begin(), g.volumes.end(),
                                        [](const auto& v) { return v.sticky; });
    if (const json sticky = has_sticky ? sticky_volume_ids(job, g.name, index) : json::array();
        !sticky.empty())
      std::erase_if(candidates, [&](const json* n) {
        const json hv = n->value("HostVolumes", json::object());
        for (const auto& id : sticky) {
          bool has = false;
          for (const auto& [name, v] : hv.items()) has |= v.is_object() && v.value("ID", "") == id;
          if (!has) return true;
        }
        return false;
      });
    RankOptions options;
    options.algorithm = st.scheduler.algorithm;
    options.all_nodes = &st.nodes;
    options.preempt = st.scheduler.preemption_enabled(job.type);
    options.preempted = &preempted;
    options.facts = &facts;
    const std::string name = job.id + "." + g.name + "[" + std::to_string(index) + "]";
    options.limit = candidate_limit(
        candidates.size(), !affinities_of(job, gi).empty() || !spreads_of(job, gi).empty());
    options.start = rotation_start(job.namespace_name + "/" + name);
    if (prev) {
      // Nomad's getSelectOptions: the node a failed alloc failed on, and every node its
      // reschedule tracker names.
      auto p = allocs.find(prev->value("ID", ""));
      if (p != allocs.end() && p->second.client_status() == "failed")
        options.penalty_nodes.insert(p->second.node_id);
      const json tracker = prev->value("RescheduleTracker", json::object());
      for (const auto& e : tracker.value("Events", json::array()))
        if (e.is_object()) options.penalty_nodes.insert(e.value("PrevNodeID", ""));
    }
    auto choice = choose_node(job, gi, candidates, usage, ask, options, metrics);
    if (!choice) return "";
    const std::string* node_id = &choice->node_id;
    const json& node = st.nodes.at(*node_id);
    AllocView a;
    a.id = random_uuid();
    evict(choice->preempted, *node_id, a.id);
    a.node_id = *node_id;
    a.key = keys.alloc(*node_id, a.id);
    a.alloc = {{"ID", a.id},
               {"Name", name},
               {"Namespace", job.namespace_name},
               {"JobID", job.id},
               {"TaskGroup", g.name},
               {"NodeID", *node_id},
               {"NodeName", node.value("Name", "")},
               {"JobVersion", version},
               {"EvalID", eval_id()},
               {"DesiredStatus", "run"},
               {"CreateTime", now},
               {"ModifyTime", now},
               {"Resources", ask_to_json(ask, *choice)},
};
    a.metrics = std::make_shared<const std::string>(json_text(metrics.to_json()));
    run_current_version(a, job_doc);
    if (!deployment_id.empty()) a.alloc["DeploymentID"] = deployment_id;
    if (!choice->preempted.empty()) a.alloc["PreemptedAllocations"] = choice->preempted;
    if (prev) {
      a.alloc["PreviousAllocation"] = prev->value("ID", "");
      a.alloc["RescheduleCount"] = prev->value("RescheduleCount", 0) + 1;
    }
    json volume_ids = json::array();
    const json node_volumes = node.value("HostVolumes", json::object());
    for (const auto& v : g.volumes)
      if (v.sticky && v.type == "host" && node_volumes.contains(v.source))
        if (auto id = node_volumes[v.source].value("ID", ""); !id.empty()) volume_ids.push_back(id);
    if (!volume_ids.empty()) a.alloc["HostVolumeIDs"] = volume_ids;
    usage[*node_id].add(resident_of(a), a.alloc["Resources"]);
    auto& kept = allocs[a.id] = std::move(a);
    write_alloc(kept);
    allocs_of_job(kept.job_key()).push_back(&kept);
    plan.placed++;
    return kept.id;
  }

  // The dynamic host volume IDs the index's latest alloc that recorded any was placed with.
  json sticky_volume_ids(const jobspec::Job& job, const std::string& group, int index) {
    json ids = json::array();
    int64_t newest = -1;
    for (const AllocView* a : allocs_of_job(job.namespace_name + "/" + job.id)) {
      if (a->group() != group || a->index() != index || !a->alloc.contains("HostVolumeIDs")) continue;
      const int64_t created = a->alloc.value("CreateTime", int64_t{0});
      if (created > newest) {
        newest = created;
        ids = a->alloc["HostVolumeIDs"];
      }
    }
    return ids.is_array() ? ids : json::array();
  }

  // Nomad's preemption, written in the same plan as the alloc that takes the room: each
  // evicted alloc says by whom, its node stops it, and its own job's pass places it again
  // where there is room (blocked when there is none).
  void evict(const std::vector<std::string>& ids, const std::string& node_id,
             const std::string& by) {
    for (const auto& id : ids) {
      auto& victim = allocs.at(id);
      victim.alloc["DesiredStatus"] = "evict";
      victim.alloc["DesiredDescription"] = "Preempted by alloc ID " + by;
      victim.alloc["PreemptedByAllocation"] = by;
      victim.alloc["ModifyTime"] = now;
      write_alloc(victim);
      usage[node_id].remove(id);
      preempted[victim.job_key() + "/" + victim.group()]++;
      if (!done.count(victim.job_key())) enqueue(victim.job_key());
      plan.preempted++;
    }
  }

  // A failed alloc whose reschedule delay has not run out: Nomad's follow-up evaluation, pending
  // until WaitUntil, which the pass after that time takes up and completes with the
  // replacement; the alloc names it (FollowupEvalID) so that it is written once.
  void follow_up(const jobspec::Job& job, AllocView& a, int64_t when, EvalId& eval_id) {
    const std::string id = random_uuid();
    writes[keys.eval(id)] = {{"ID", id},
                             {"Namespace", job.namespace_name},
                             {"JobID", job.id},
                             {"Type", jobspec::to_string(job.type)},
                             {"Priority", job.priority},
                             {"TriggeredBy", "alloc-failure"},
                             {"Status", "pending"},
                             {"StatusDescription", "created for delayed rescheduling"},
                             {"WaitUntil", when},
                             {"PreviousEval", eval_id()},
                             {"CreateTime", now},
                             {"ModifyTime", now}};
    a.alloc["FollowupEvalID"] = id;
    write_alloc(a);
  }

  // The job's deployment for `version`: the one there is, else a new one when a group rolls
  // out by an update block (null when none does, or the job is stopped). A running or paused
  // deployment of an older version is cancelled, as Nomad cancels it when the job changes.
  json deployment_of(const jobspec::Job& job, int version, bool stopped) {
    json mine = nullptr;
    for (const auto& [idp, dp] : deployments_of_job(job.namespace_name + "/" + job.id)) {
      const std::string& id = *idp;
      const json& d = *dp;
      if (d.value("JobVersion", -1) == version && !stopped) {
        mine = d;
      } else if (deployment_active(d)) {
        json c = d;
        c["Status"] = "cancelled";
        c["StatusDescription"] =
            stopped ? "Cancelled because job is stopped" : "Cancelled due to newer version of job";
        c["ModifyTime"] = now;
        writes[keys.deployment(id)] = c;
      }
    }
    if (!mine.is_null() || stopped) return mine;
    for (const auto& g : job.groups)
      if (rolling_update_of(job, g)) return new_deployment(job, version, now);
    return nullptr;
  }

  // Counts the deployment's groups, judges it, and writes what changed: a success marks the
  // version stable; a failure with auto_revert registers the last stable version again.
  void settle_deployment(json& d, const jobspec::Job& job, const std::string& jk, const JobRecord& rec,
                         int version) {
    const json before =
        st.deployments.count(d.value("ID", "")) ? st.deployments.at(d["ID"]) : json(nullptr);
    std::map<std::string, GroupTally> tallies;
    for (const auto& g : job.groups) {
      if (!rolling_update_of(job, g)) continue;
      GroupTally t;
      t.desired = g.count;
      for (const AllocView* ap : allocs_of_job(jk)) {
        const AllocView& a = *ap;
        if (a.group() != g.name) continue;
        if (a.alloc.value("JobVersion", 0) != version) {
          t.old_left = t.old_left || a.live();
          continue;
        }
        if (a.desired() != "run" && a.client_status() != "failed") continue;
        ++t.placed;
        auto h = alloc_health(a);
        t.healthy += h == AllocHealth::Healthy;
        t.unhealthy += h == AllocHealth::Unhealthy;
        t.healthy_canaries += h == AllocHealth::Healthy && a.alloc.value("Canary", false);
      }
      record_tally(d, g.name, t, now);
      tallies[g.name] = t;
    }
    const std::string verdict = judge_deployment(d, tallies, now);
    const std::string ns = job.namespace_name;
    if (verdict == "successful") {
      json stable = rec.as_json();
      stable["Stable"] = true;
      writes[keys.job(ns, job.id)] = stable;
      writes[keys.job_version(ns, job.id, version)] = stable;
    } else if (verdict == "failed" && auto_reverts(d)) {
      auto vs = st.job_versions.find(jk);
      const JobRecord* good =
          vs == st.job_versions.end() ? nullptr : last_stable_version(vs->second, version);
      if (!good) {
        d["StatusDescription"] =
            d.value("StatusDescription", "") + " - no stable job version to auto revert to";
      } else {
        const int target = good->value("Version", 0);
        json again = good->as_json();
        again["Version"] = version + 1;
        again["Stable"] = false;
        again["Stop"] = false;
        again["SubmitTime"] = now;
        writes[keys.job(ns, job.id)] = again;
        writes[keys.job_version(ns, job.id, version + 1)] = again;
        d["StatusDescription"] = d.value("StatusDescription", "") +
                                 " - rolling back to job version " + std::to_string(target);
      }
    }
    json cmp = d;
    if (before.is_object()) cmp["ModifyTime"] = before.value("ModifyTime", int64_t{0});
    if (cmp != before) {
      d["ModifyTime"] = now;
      writes[keys.deployment(d.value("ID", ""))] = d;
    }
  }

  // A new version, for one group: an alloc whose tasks the change leaves alone (a count, an
  // update block, a revert to what it runs: in_place.hpp) is updated in place; the others are
  // replaced, all at once, or under a rolling update max_parallel at a time, each step waiting for the new allocs' health. With canaries, the
  // first `canary` new allocs are placed beside the old ones (sharing their index, left out of
  // `group`) and nothing is replaced until the deployment is promoted; then an old alloc whose
  // index has a canary goes first. A deployment no longer running replaces nothing more.
  // True when a rolling step was taken.
  bool replace_old_version(const jobspec::Job& job, std::size_t gi, std::vector<AllocView*>& group,
                           json& deployment, int version, const JobDoc& job_doc,
                           EvalId& eval_id, std::vector<std::string>& placed) {
    const auto& g = job.groups[gi];
    std::vector<AllocView*> old;
    std::set<int> new_indexes;
    std::shared_ptr<const json> new_json, last_old;
    for (auto* a : group) {
      if (a->alloc.value("JobVersion", 0) == version) {
        if (a->live()) new_indexes.insert(a->index());
        continue;
      }
      if (!a->live()) continue;
      // Each parsed once for the group: while one is held, the next parse of its text is the
      // same document (job_doc.hpp).
      if (!new_json) new_json = job_doc.parsed();
      last_old = a->job.parsed();
      if (updatable_in_place(*last_old, *new_json, g.name)) {
        run_current_version(*a, job_doc);
        a->alloc["JobVersion"] = version;
        if (!deployment_id.empty()) a->alloc["DeploymentID"] = deployment_id;
        a->alloc["ModifyTime"] = now;
        write_alloc(*a);
        new_indexes.insert(a->index());
      } else {
        old.push_back(a);
      }
    }
    std::sort(old.begin(), old.end(),
              [](AllocView* a, AllocView* b) { return a->index() < b->index(); });
    const auto* u = rolling_update_of(job, g);
    if (!u || !deployment.is_object()) {
      for (auto* a : old) stop(*a, "alloc is being updated due to job update");
      return false;
    }
    // A paused deployment places and replaces nothing, but its canaries stay beside the old
    // allocs (below); a failed, cancelled or finished one does nothing more.
    const bool paused = deployment.value("Status", "") == "paused";
    if (deployment_id.empty() && !paused) return false;
    json& dg = deployment["TaskGroups"][g.name];
    const bool promoted = dg.value("Promoted", false);
    bool stepped = false;
    json ids = dg.value("PlacedCanaries", json::array());
    if (u->canary > 0 && !promoted && (!old.empty() || !ids.empty())) {
      // Canaries: placed once, beside the old allocs; the old ones stay until promotion.
      for (auto* a : old) {
        if (paused || int(ids.size()) >= u->canary) break;
        if (new_indexes.count(a->index())) continue;
        PlacementMetrics one;
        auto id = place(job, job_doc, version, gi, a->index(), eval_id, nullptr, nullptr, one);
        if (id.empty()) break;  // no room: the canaries wait for capacity like any placement
        allocs.at(id).alloc["Canary"] = true;
        write_alloc(allocs.at(id));
        ids.push_back(id);
        placed.push_back(id);
        new_indexes.insert(a->index());
        stepped = true;
      }
      dg["PlacedCanaries"] = ids;
      dg["DesiredCanaries"] = u->canary;
      group.erase(std::remove_if(group.begin(), group.end(),
                                 [&](AllocView* a) {
                                   return a->alloc.value("JobVersion", 0) == version &&
                                          a->alloc.value("Canary", false);
                                 }),
                  group.end());
      return stepped;
    }
    if (paused) return false;
    // An unhealthy new alloc holds its slot too: it fails the deployment (settled after this
    // pass), and a failed step must not free room for the next one.
    int in_flight = 0;
    for (auto* a : group)
      if (a->alloc.value("JobVersion", 0) == version && a->live() &&
          alloc_health(*a) != AllocHealth::Healthy)
        ++in_flight;
    int budget = std::max(0, u->max_parallel - in_flight);
    for (auto* a : old) {
      if (new_indexes.count(a->index())) {
        stop(*a, "alloc is being replaced by its promoted canary");
      } else if (budget > 0) {
        stop(*a, "alloc is being updated due to job update");
        --budget;
      } else {
        continue;
      }
      stepped = true;
    }
    return stepped;
  }

  // The job's evaluations that are still open (pending or blocked), oldest first. A follow-up
  // eval waiting for a reschedule delay (WaitUntil) opens when the delay is over, or at once
  // with `waiting` (a stopped job resolves them all).
  std::vector<json> open_evals(const std::string& ns, const std::string& id, bool waiting) {
    std::vector<json> out;
    for (const json* ep : evals_of_job(ns + "/" + id))
      if (const json& e = *ep;
          (e.value("Status", "") == "pending" || e.value("Status", "") == "blocked") &&
          (waiting || e.value("WaitUntil", int64_t{0}) <= now))
        out.push_back(e);
    std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
      return a.value("CreateTime", int64_t{0}) < b.value("CreateTime", int64_t{0});
    });
    return out;
  }

  // The job's spec, from the leader's cache when its key has not changed since it was parsed.
  std::shared_ptr<const jobspec::Job> spec_of(const std::string& jk, const JobRecord& rec) {
    auto revision = st.job_key_revision.find(jk);
    if (specs && revision != st.job_key_revision.end()) {
      auto it = specs->by_job.find(jk);
      if (it != specs->by_job.end() && it->second.first == revision->second)
        return it->second.second;
    }
    if (!rec.job) throw std::runtime_error("its record has no Job");
    auto parsed = std::make_shared<const jobspec::Job>(jobspec::job_from_json(*rec.job.parsed()));
    if (specs && revision != st.job_key_revision.end())
      specs->by_job[jk] = {revision->second, parsed};
    return parsed;
  }

  // The group's allocs the server marked `unknown` (their node went): lost once the group's
  // lost_after is over; once their node is back, kept or stopped beside the alloc that
  // replaced them meanwhile (disconnect.hpp, docs/cluster.md "Disconnected nodes").
  void settle_unknown(const jobspec::TaskGroup& g, const std::vector<AllocView*>& mine,
                      std::string& trigger) {
    for (auto* a : mine) {
      if (a->group() != g.name || a->desired() != "run" || a->client_status() != "unknown")
        continue;
      trigger = "node-update";
      if (st.nodes.count(a->node_id)) {
        reconnect(g, *a);
      } else if (now >= lost_at(g, a->alloc)) {
        mark_client_status(a->alloc, "lost", "alloc is lost since its node is down", now);
        stop(*a, "alloc is lost since its node is down");
        plan.lost++;
        plan.stopped--;
      }
    }
  }

  // An `unknown` alloc whose node registered again (having written every alloc's status
  // first: upstream_service.hpp): its own status counts again, and of it and the live end of
  // its replacements one is kept.
  void reconnect(const jobspec::TaskGroup& g, AllocView& original) {
    original.alloc.erase("ClientStatus");
    original.alloc.erase("ClientDescription");
    original.alloc["ModifyTime"] = now;
    write_alloc(original);
    AllocView* replacement = nullptr;
    std::string next = original.alloc.value("NextAllocation", "");
    for (int hops = 0; !next.empty() && hops < 64; ++hops) {
      auto it = allocs.find(next);
      if (it == allocs.end()) break;
      replacement = &it->second;
      next = replacement->alloc.value("NextAllocation", "");
    }
    const bool contest = replacement && replacement->live();
    if (contest && &keep_on_reconnect(g, original, *replacement) == replacement) {
      stop(original, "alloc not needed due to disconnected client reconnect");
      return;
    }
    if (contest) stop(*replacement, "alloc not needed due to disconnected client reconnect");
    // Kept: a later failure of it is rescheduled as any other's.
    original.alloc.erase("NextAllocation");
  }

  void job(const std::string& jk, const JobRecord& rec) {
    std::shared_ptr<const jobspec::Job> spec;
    try {
      spec = spec_of(jk, rec);
    } catch (const std::exception& e) {
      spdlog::warn("server: job {} cannot be read: {}", jk, e.what());
      return;
    }
    const jobspec::Job& job = *spec;
    const int version = rec.version();
    const std::string type = jobspec::to_string(job.type);
    const bool stopped = rec.stopped() || jobspec::launches_children(job);
    auto evals = open_evals(job.namespace_name, job.id, stopped);
    EvalId eval_id(evals.empty() ? "" : evals.front().value("ID", ""));
    // `job eval -force-reschedule`: a failed alloc is replaced now, whatever its policy's
    // delay and attempts say (Nomad's ForceReschedule).
    bool force_reschedule = false;
    for (const auto& e : evals) force_reschedule |= e.value("ForceReschedule", false);
    const std::size_t writes_before = write_count();
    std::string trigger = "job-register";
    std::vector<std::string> placed;
    json failed = json::object();
    std::string failed_summary;

    const std::vector<AllocView*> mine = allocs_of_job(jk);
    json deployment = deployment_of(job, version, stopped);
    const bool rolling_out = deployment.is_object() && deployment.value("Status", "") == "running";
    deployment_id = rolling_out ? deployment.value("ID", "") : "";

    if (stopped) {
      for (auto* a : mine)
        if (a->desired() == "run") stop(*a, "alloc is not needed since the job was stopped");
    } else {
      // An operator's `alloc stop` (keys.hpp alloc_stop): stopped and placed anew, linked to
      // its replacement as a migrated alloc is (below).
      for (auto* a : mine)
        if (a->desired() == "run" && st.stop_requests.count(a->id)) {
          a->alloc["DesiredTransition"] = {{"Migrate", true}};
          stop(*a, "alloc was stopped by an operator");
          trigger = "alloc-stop";
        }
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
        settle_unknown(g, mine, trigger);
        std::vector<AllocView*> group;
        for (auto* a : mine)
          if (a->group() == g.name && a->desired() == "run") group.push_back(a);
        if (replace_old_version(job, gi, group, deployment, version, rec.job, eval_id, placed))
          trigger = "deployment-watcher";
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
            auto id = place(job, rec.job, version, gi, 0, eval_id, nullptr, &nid, one);
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
          struct ToPlace {
            int index;
            const json* prev = nullptr;  // the alloc it replaces
            int64_t failed_at = 0;       // a reschedule: when prev failed
          };
          std::vector<ToPlace> to_place;
          const auto policy = jobspec::reschedule_policy_of(g, job.type);
          const bool replaces_unknown = !g.disconnect || g.disconnect->replace;
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
            if (cs == "unknown") {
              // Its node is away: the index stays its own unless the group replaces it
              // meanwhile (below).
              if (!replaces_unknown) satisfied.insert(idx);
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
              auto when = force_reschedule ? std::optional<int64_t>(now)
                                           : next_reschedule_at_ns(policy, a->alloc, failed_at);
              // Once a follow-up evaluation was written for it, the replacement is due when
              // that evaluation opens: the node may rewrite the status (and its ModifyTime)
              // after the failure, and a pass between the two times would complete the
              // evaluation with nothing placed, then place under a new one.
              if (when && !force_reschedule)
                if (auto f = st.evals.find(a->alloc.value("FollowupEvalID", ""));
                    f != st.evals.end() && f->second.value("WaitUntil", int64_t{0}) > 0)
                  when = f->second.value("WaitUntil", int64_t{0});
              if (!when) {
                satisfied.insert(idx);  // out of attempts: the index stays failed
              } else if (*when > now) {
                satisfied.insert(idx);  // waiting out the reschedule delay
                if (!a->alloc.contains("FollowupEvalID")) follow_up(job, *a, *when, eval_id);
                trigger = "alloc-failure";
              } else if (!satisfied.count(idx)) {
                satisfied.insert(idx);
                to_place.push_back({idx, &a->alloc, failed_at});
                trigger = "alloc-failure";
              }
            }
          }
          // Lost allocs (stopped above when their node went) are replaced at once, as Nomad
          // does: the reschedule policy is for allocs that failed. So are migrated ones (off
          // a draining node), and unknown ones where the group's disconnect block says so;
          // each is linked to its replacement. A lost alloc whose node stops it by itself
          // (stop_on_client_after) is replaced once that has happened: a follow-up evaluation
          // waits for it.
          std::map<int, AllocView*> moved;
          for (auto* a : mine)
            if (a->group() == g.name && !a->alloc.contains("NextAllocation") &&
                (a->client_status() == "lost" ||
                 (a->client_status() == "unknown" && a->desired() == "run" &&
                  replaces_unknown) ||
                 (a->desired() == "stop" &&
                  a->alloc.value("DesiredTransition", json::object()).value("Migrate", false))))
              moved[a->index()] = a;
          for (auto& [idx, a] : moved) {
            if (a->client_status() != "lost" || satisfied.count(idx)) continue;
            const int64_t when = replace_lost_after(g, a->alloc);
            if (when <= now) continue;
            satisfied.insert(idx);
            if (!a->alloc.contains("FollowupEvalID")) follow_up(job, *a, when, eval_id);
            trigger = "node-update";
          }
          // Indexes a higher-priority job evicted: their evaluation says so, as Nomad's.
          std::set<int> evicted;
          for (auto* a : mine)
            if (a->group() == g.name && a->desired() == "evict") evicted.insert(a->index());
          for (int idx = 0; idx < g.count; ++idx)
            if (!satisfied.count(idx)) {
              auto m = moved.find(idx);
              to_place.push_back({idx, m == moved.end() ? nullptr : &m->second->alloc});
              if (m != moved.end() && trigger != "alloc-stop")
                trigger = m->second->client_status() == "lost" ? "node-update" : "node-drain";
              else if (evicted.count(idx))
                trigger = "preemption";
            }
          std::sort(to_place.begin(), to_place.end(),
                    [](const auto& a, const auto& b) { return a.index < b.index; });
          for (const auto& tp : to_place) {
            PlacementMetrics one;
            auto id = place(job, rec.job, version, gi, tp.index, eval_id, tp.prev, nullptr, one);
            if (id.empty()) {
              failed_here = true;
              metrics = one;  // every unplaced alloc sees the same nodes
              metrics.evaluated = one.evaluated;
              continue;
            }
            placed.push_back(id);
            if (tp.prev) {
              // The previous alloc points at its replacement, so it is replaced only once.
              auto& old = allocs.at(tp.prev->value("ID", ""));
              old.alloc["NextAllocation"] = id;
              write_alloc(old);
            }
            if (tp.failed_at) {
              auto& fresh = allocs.at(id);
              fresh.alloc["RescheduleTracker"] =
                  next_reschedule_tracker(policy, *tp.prev, tp.failed_at, now);
              write_alloc(fresh);
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

    // Deployment bookkeeping alone (counts, verdicts) is no reason for an evaluation.
    const bool changed = write_count() != writes_before;
    if (deployment.is_object()) {
      if (!st.deployments.count(deployment.value("ID", ""))) {
        deployment["ModifyTime"] = now;
        writes[keys.deployment(deployment["ID"])] = deployment;
      }
      // A paused one is counted too (and failed when a user asks): it only replaces nothing.
      if (deployment_active(deployment)) settle_deployment(deployment, job, jk, rec, version);
    }
    deployment_id.clear();

    // The evaluation: open ones are resolved; a change with none open gets a new one.
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
      json e = {{"ID", eval_id()},
                {"Namespace", job.namespace_name},
                {"JobID", job.id},
                {"Type", type},
                {"Priority", job.priority},
                {"TriggeredBy", trigger},
                {"JobModifyIndex", version},
                {"CreateTime", now}};
      writes[keys.eval(eval_id())] = outcome(e);
    }

    // Looked at again next pass, whatever changes or not: a job that wrote something (until
    // its writes come back through the watch), is blocked or has an open evaluation (room may
    // free up; a follow-up's delay runs out), rolls out a deployment (health and deadlines go
    // by the clock), or has a failed alloc not yet replaced (its reschedule delay).
    bool open = write_count() != writes_before || !failed.empty() || rolling_out;
    for (const json* e : evals_of_job(jk)) {
      const std::string s = e->value("Status", "");
      open = open || s == "pending" || s == "blocked";
    }
    for (const auto& [idp, d] : deployments_of_job(jk))
      open = open || d->value("Status", "") == "running" || d->value("FailRequested", false);
    for (const AllocView* a : allocs_of_job(jk))
      open = open || (a->client_status() == "failed" && !a->alloc.contains("NextAllocation") &&
                      a->desired() == "run") ||
             (a->client_status() == "unknown" && a->desired() == "run");
    if (open) again.insert(jk);
  }
};

}  // namespace

namespace {

Plan plan(const ClusterState& st, std::map<std::string, AllocView>& allocs, const Keys& keys,
          int64_t now_ns, JobSpecCache* specs, LeaderMemory* memory,
          ClusterState::Changes* changes) {
  // Only what changed (docs/cluster.md, "Placement"): the leader's view after its first pass.
  const bool incremental = changes && !changes->all && st.indexed;
  std::map<std::string, NodeUsage> own_usage;
  NodeFactsCache own_facts;
  JobPass pass{st, keys, now_ns, allocs, memory ? memory->usage : own_usage,
               memory ? memory->facts : own_facts};
  pass.specs = specs;
  pass.lazy = incremental;
  // A node's facts are worked out again once it changed; a node gone may leave its address to
  // another: then all of them.
  if (incremental) {
    for (const auto& id : changes->nodes) {
      auto n = st.nodes.find(id);
      if (n == st.nodes.end()) {
        pass.facts.clear();
        break;
      }
      pass.facts.forget(&n->second);
    }
  } else {
    pass.facts.clear();
  }
  pass.facts.new_plan();
  // Specs of jobs gone: a job key that went is among the changed ones.
  if (specs && incremental) {
    for (const auto& jk : changes->jobs)
      if (!st.jobs.count(jk)) specs->by_job.erase(jk);
  } else if (specs) {
    std::erase_if(specs->by_job, [&](const auto& e) { return !st.jobs.count(e.first); });
  }
  if (memory && incremental && memory->ready_known && changes->nodes.empty()) {
    pass.ready = memory->ready;
  } else {
    for (const auto& [id, node] : st.nodes)
      if (node_ready(node)) pass.ready.push_back(&node);
    if (memory) {
      memory->ready = pass.ready;
      memory->ready_known = true;
    }
  }
  if (!incremental) {
    for (auto& [id, a] : pass.allocs) pass.allocs_of[a.job_key()].push_back(&a);
    for (const auto& [id, e] : st.evals)
      pass.evals_of[e.value("Namespace", "default") + "/" + e.value("JobID", "")].push_back(&e);
    for (const auto& [id, d] : st.deployments)
      pass.deployments_of[d.value("Namespace", "default") + "/" + d.value("JobID", "")]
          .emplace_back(&id, &d);
  }
  // The jobs to reconcile: every one, or those marked since the last pass (and those it asked
  // to look at again); a job key among them that is gone was purged.
  std::set<std::string> touched;
  if (incremental) touched = changes->jobs;
  auto touch = [&](const AllocView& a) {
    if (incremental) touched.insert(a.job_key());
  };
  // Each node's usage by its live allocs: brought up to date for the allocs and nodes that
  // changed, or worked out for every node.
  auto count_usage = [&](const AllocView& a) {
    if (a.live() && st.nodes.count(a.node_id))
      pass.usage[a.node_id].add(resident_of(a), a.alloc.value("Resources", json::object()));
  };
  if (incremental) {
    for (const auto& node : changes->usage) {
      pass.usage.erase(node);
      if (auto on = st.allocs_by_node.find(node); on != st.allocs_by_node.end())
        for (const auto& id : on->second)
          if (auto a = pass.allocs.find(id); a != pass.allocs.end()) count_usage(a->second);
    }
    for (const auto& [node, id] : changes->allocs) {
      if (changes->usage.count(node)) continue;  // worked out whole above
      if (auto u = pass.usage.find(node); u != pass.usage.end()) u->second.remove(id);
      if (auto a = pass.allocs.find(id); a != pass.allocs.end() && a->second.node_id == node)
        count_usage(a->second);
    }
  } else {
    pass.usage.clear();
    for (const auto& [id, a] : pass.allocs) count_usage(a);
  }
  // A node whose key is gone (its lease lapsed) is down: what it ran is lost. Only the allocs
  // of changed nodes and jobs can have become so since the last pass.
  // A group with a disconnect block's lost_after has them `unknown` for that long instead
  // (disconnect.hpp); its job's pass takes them from there.
  auto lose = [&](AllocView& a) {
    if (a.desired() != "run" || st.nodes.count(a.node_id)) return;
    auto cs = a.client_status();
    if (cs == "complete" || cs == "failed" || cs == "unknown") return;
    if (a.job.summary().lost_after_ns.count(a.group())) {
      mark_client_status(a.alloc, "unknown", "alloc is unknown since its node is disconnected",
                         now_ns);
      pass.write_alloc(a);
      pass.plan.unknown++;
      touch(a);
      return;
    }
    mark_client_status(a.alloc, "lost", "alloc is lost since its node is down", now_ns);
    pass.stop(a, "alloc is lost since its node is down");
    pass.plan.lost++;
    pass.plan.stopped--;
    touch(a);
  };
  if (incremental) {
    std::set<std::string> ids;
    for (const auto& node : changes->nodes)
      if (auto on = st.allocs_by_node.find(node); on != st.allocs_by_node.end())
        ids.insert(on->second.begin(), on->second.end());
    for (const auto& jk : changes->jobs)
      if (auto of = st.allocs_by_job.find(jk); of != st.allocs_by_job.end())
        ids.insert(of->second.begin(), of->second.end());
    for (const auto& id : ids)
      if (auto a = pass.allocs.find(id); a != pass.allocs.end()) lose(a->second);
  } else {
    for (auto& [id, a] : pass.allocs) lose(a);
  }
  // Draining nodes (drain.hpp): allocs moved by their group's migrate block or the drain's
  // deadline (stopped there, placed again elsewhere), system allocs stopped last, and a drain
  // with nothing left is complete.
  auto drains = plan_drains(st, pass.allocs, now_ns);
  for (const auto& id : drains.migrate) {
    auto& a = pass.allocs.at(id);
    a.alloc["DesiredTransition"] = {{"Migrate", true}};
    pass.stop(a, "alloc is being migrated: its node is draining");
    touch(a);
  }
  for (const auto& id : drains.stop) {
    pass.stop(pass.allocs.at(id), "alloc is not needed: its node is draining");
    touch(pass.allocs.at(id));
  }
  for (const auto& node : drains.done_nodes)
    pass.writes[keys.node_control(node)] = drain_complete(st.controls.at(node), now_ns);
  // Higher priority first, as Nomad's eval broker hands them out: scarce room goes to the
  // job that may preempt for it anyway. A job whose allocs a higher one evicts joins the queue.
  if (incremental) {
    for (const auto& jk : touched) pass.enqueue(jk);
  } else {
    for (const auto& [jk, rec] : st.jobs) pass.enqueue(jk);
  }
  while (!pass.queue.empty()) {
    auto next = pass.queue.begin();
    const std::string jk = std::move(next->second);
    pass.queue.erase(next);
    if (!pass.done.insert(jk).second) continue;
    pass.job(jk, st.jobs.at(jk));
  }
  // A spec is kept while its job is in flux: once every alloc of a job this pass looked at has
  // reported (none pending) and nothing is left for the next pass, it goes, and a later change
  // parses the job again. Kept for good, the specs of 10,000 settled jobs held 20 MiB.
  if (specs)
    for (const auto& jk : pass.done) {
      if (pass.again.count(jk)) continue;
      const auto& own = pass.allocs_of_job(jk);
      if (!own.empty() && std::all_of(own.begin(), own.end(), [](const AllocView* a) {
            return a->client_status() != "pending";
          }))
        specs->by_job.erase(jk);
    }
  // A purged job's key is gone: its allocs stop, its evaluations are done and a running
  // or paused deployment is cancelled. A finished alloc is left as it is (garbage collection deletes
  // a dead job's key before its allocs: rewriting them would only void its guarded deletes).
  auto purge_alloc = [&](AllocView& a) {
    const auto s = a.client_status();
    if (a.desired() == "run" && !st.jobs.count(a.job_key()) && s != "complete" && s != "failed" &&
        s != "lost")
      pass.stop(a, "alloc is not needed since the job was purged");
  };
  auto purge_eval = [&](const std::string& id, const json& e) {
    std::string jk = e.value("Namespace", "default") + "/" + e.value("JobID", "");
    auto status = e.value("Status", "");
    if (st.jobs.count(jk) || (status != "pending" && status != "blocked")) return;
    json done = e;
    done["Status"] = "complete";
    done["ModifyTime"] = now_ns;
    pass.writes[keys.eval(id)] = done;
  };
  auto purge_deployment = [&](const std::string& id, const json& d) {
    std::string jk = d.value("Namespace", "default") + "/" + d.value("JobID", "");
    if (st.jobs.count(jk) || !deployment_active(d)) return;
    json done = d;
    done["Status"] = "cancelled";
    done["StatusDescription"] = "Cancelled because job is purged";
    done["ModifyTime"] = now_ns;
    pass.writes[keys.deployment(id)] = done;
  };
  if (incremental) {
    for (const auto& jk : touched) {
      if (st.jobs.count(jk)) continue;
      for (AllocView* a : pass.allocs_of_job(jk)) purge_alloc(*a);
      if (auto ids = st.evals_by_job.find(jk); ids != st.evals_by_job.end())
        for (const auto& id : ids->second) purge_eval(id, st.evals.at(id));
      if (auto ids = st.deployments_by_job.find(jk); ids != st.deployments_by_job.end())
        for (const auto& id : ids->second) purge_deployment(id, st.deployments.at(id));
    }
  } else {
    for (auto& [id, a] : pass.allocs) purge_alloc(a);
    for (const auto& [id, e] : st.evals) purge_eval(id, e);
    for (const auto& [id, d] : st.deployments) purge_deployment(id, d);
  }
  // What the next pass looks at, besides what changes meanwhile.
  if (changes) {
    changes->all = false;
    changes->jobs = std::move(pass.again);
    changes->nodes.clear();
    changes->usage.clear();
    changes->allocs.clear();
  }
  // In key order, allocs and the rest merged.
  auto put_alloc = [&](const std::string& k, const AllocView& a) {
    pass.plan.jobs.push_back(a.job_key());
    pass.plan.puts.emplace_back(k, a.text());
  };
  auto other = pass.writes.begin();
  for (const auto& [k, a] : pass.alloc_writes) {
    for (; other != pass.writes.end() && other->first < k; ++other) {
      pass.plan.jobs.push_back(job_of_write(keys, other->first, other->second));
      pass.plan.puts.emplace_back(other->first, json_text(other->second));
    }
    put_alloc(k, *a);
  }
  for (; other != pass.writes.end(); ++other) {
    pass.plan.jobs.push_back(job_of_write(keys, other->first, other->second));
    pass.plan.puts.emplace_back(other->first, json_text(other->second));
  }
  return std::move(pass.plan);
}

}  // namespace

Plan plan_cluster(const ClusterState& st, const Keys& keys, int64_t now_ns, JobSpecCache* specs) {
  auto allocs = st.allocs;
  return plan(st, allocs, keys, now_ns, specs, nullptr, nullptr);
}

Plan plan_cluster_in_place(ClusterState& st, const Keys& keys, int64_t now_ns,
                           LeaderMemory& memory) {
  return plan(st, st.allocs, keys, now_ns, &memory.specs, &memory, &st.changes);
}

}  // namespace drover::server
