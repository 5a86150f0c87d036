// Which allocs of draining nodes move or stop now; see drain.hpp.
#include "server/drain.hpp"

#include <algorithm>

#include "jobspec/job.hpp"
#include "server/deployment.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

std::string group_key(const AllocView& a) { return a.job_key() + "\n" + a.group(); }

std::string type_of(const AllocView& a) {
  const auto& job = a.job.summary();
  return job.is_object ? job.type : "service";
}

bool migrated(const AllocView& a) {
  auto t = a.alloc.find("DesiredTransition");
  return t != a.alloc.end() && t->is_object() && t->value("Migrate", false);
}

// The group's migrate block as the alloc's own job has it (Nomad's defaults when none);
// 0 when its allocs move all at once.
int max_parallel_of(const AllocView& a) {
  jobspec::MigrateStrategy m;
  const auto& given = a.job.summary().migrate_max_parallel;
  auto it = given.find(a.group());
  return it == given.end() ? m.max_parallel : it->second;
}

// The drain's deadline has passed: Deadline < 0 forces at once, 0 never does (Nomad's
// DrainStrategy; the CLI's -force and -no-deadline).
bool past_deadline(const json& control, int64_t now_ns) {
  const int64_t deadline = control.value("Deadline", int64_t{0});
  if (deadline < 0) return true;
  return deadline > 0 && now_ns >= control.value("StartedAt", int64_t{0}) + deadline;
}

}  // namespace

DrainPass plan_drains(const ClusterState& st, const std::map<std::string, AllocView>& allocs,
                      int64_t now_ns) {
  DrainPass out;
  // Most passes: no node drains, and nothing below need look at every alloc.
  if (std::none_of(st.controls.begin(), st.controls.end(),
                   [](const auto& c) { return c.second.value("Drain", false); }))
    return out;
  // On the move: migrated allocs whose replacement runs and is not yet judged.
  std::map<std::string, int> in_flight;
  for (const auto& [id, a] : allocs) {
    if (!migrated(a)) continue;
    auto next = allocs.find(a.alloc.value("NextAllocation", ""));
    if (next != allocs.end() && next->second.live() &&
        alloc_health(next->second) == AllocHealth::Pending)
      ++in_flight[group_key(a)];
  }
  for (const auto& [node_id, control] : st.controls) {
    if (!control.value("Drain", false) || !st.nodes.count(node_id)) continue;
    const bool forced = past_deadline(control, now_ns);
    const std::size_t acted_before = out.migrate.size() + out.stop.size();
    const bool ignore_system = control.value("IgnoreSystemJobs", false);
    std::map<std::string, std::vector<const AllocView*>> services;
    std::vector<const AllocView*> systems;
    std::size_t others_left = 0;  // live non-system allocs that stay on the node this pass
    for (const auto& [id, a] : allocs) {
      if (a.node_id != node_id || !a.live()) continue;
      const std::string type = type_of(a);
      if (type == "system") {
        if (!ignore_system) systems.push_back(&a);
      } else if (type == "service" && !forced) {
        services[group_key(a)].push_back(&a);
      } else if (!forced) {
        ++others_left;  // batch and sysbatch: left to finish until the deadline
      } else if (type == "sysbatch") {
        out.stop.push_back(id);
      } else {
        out.migrate.push_back(id);
      }
    }
    for (auto& [key, list] : services) {
      std::sort(list.begin(), list.end(),
                [](const AllocView* a, const AllocView* b) { return a->index() < b->index(); });
      const int limit = max_parallel_of(*list.front());
      std::size_t n = limit <= 0 ? list.size() : std::size_t(std::max(0, limit - in_flight[key]));
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (i < n)
          out.migrate.push_back(list[i]->id);
        else
          ++others_left;
      }
    }
    const bool acted_now = out.migrate.size() + out.stop.size() > acted_before;
    // System allocs go last: in a pass after everything else of the node has stopped.
    if (others_left == 0 && !acted_now) {
      for (const auto* a : systems) out.stop.push_back(a->id);
      if (systems.empty()) out.done_nodes.push_back(node_id);
    }
  }
  return out;
}

json drain_complete(const json& control, int64_t now_ns) {
  return {{"Eligibility", "ineligible"},
          {"Drain", false},
          {"LastDrain",
           {{"Status", "complete"},
            {"StartedAt", control.value("StartedAt", int64_t{0})},
            {"UpdatedAt", now_ns}}}};
}

}  // namespace drover::server
