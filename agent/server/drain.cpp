// Which allocs of draining nodes move now; see drain.hpp.
#include "server/drain.hpp"

#include <algorithm>

#include "jobspec/job.hpp"
#include "server/deployment.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

std::string group_key(const AllocView& a) { return a.job_key() + "\n" + a.group(); }

bool migrated(const AllocView& a) {
  auto t = a.alloc.find("DesiredTransition");
  return t != a.alloc.end() && t->is_object() && t->value("Migrate", false);
}

// The group's migrate block as the alloc's own job has it (Nomad's defaults when none);
// 0 when its allocs move all at once (batch, or max_parallel 0).
int max_parallel_of(const AllocView& a) {
  const json& job = a.alloc.value("Job", json::object());
  if (job.value("Type", "service") != "service") return 0;
  jobspec::MigrateStrategy m;
  for (const auto& g : job.value("TaskGroups", json::array()))
    if (g.value("Name", "") == a.group() && g.contains("Migrate") && g["Migrate"].is_object())
      m.max_parallel = g["Migrate"].value("MaxParallel", m.max_parallel);
  return m.max_parallel;
}

}  // namespace

std::vector<std::string> allocs_to_migrate(const ClusterState& st,
                                           const std::map<std::string, AllocView>& allocs) {
  // On the move: migrated allocs whose replacement runs and is not yet judged.
  std::map<std::string, int> in_flight;
  for (const auto& [id, a] : allocs) {
    if (!migrated(a)) continue;
    auto next = allocs.find(a.alloc.value("NextAllocation", ""));
    if (next != allocs.end() && next->second.live() &&
        alloc_health(next->second) == AllocHealth::Pending)
      ++in_flight[group_key(a)];
  }
  std::map<std::string, std::vector<const AllocView*>> draining;
  for (const auto& [id, a] : allocs) {
    auto n = st.nodes.find(a.node_id);
    if (n == st.nodes.end() || !n->second.value("Drain", false) || !a.live()) continue;
    auto type = a.alloc.value("Job", json::object()).value("Type", "service");
    if (type == "system" || type == "sysbatch") continue;
    draining[group_key(a)].push_back(&a);
  }
  std::vector<std::string> out;
  for (auto& [key, list] : draining) {
    std::sort(list.begin(), list.end(),
              [](const AllocView* a, const AllocView* b) { return a->index() < b->index(); });
    const int limit = max_parallel_of(*list.front());
    std::size_t n = limit <= 0 ? list.size() : std::size_t(std::max(0, limit - in_flight[key]));
    for (std::size_t i = 0; i < list.size() && i < n; ++i) out.push_back(list[i]->id);
  }
  return out;
}

}  // namespace drover::server
