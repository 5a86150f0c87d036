// The leader's periodic launches; see periodic_launches.hpp.
#include "server/periodic_launches.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "drover/common/json_text.hpp"
#include "jobspec/periodic_schedule.hpp"
#include "server/job_records.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

constexpr int64_t kNsPerS = 1000000000;

struct Parent {
  jobspec::Job job;
  jobspec::PeriodicSchedule schedule;
  int64_t done_until = 0;  // launch times up to here are done (unix seconds)
};

// The job as a periodic parent: enabled, not stopped, its schedule readable.
std::optional<Parent> periodic_parent(const ClusterState& st, const std::string& jk,
                                      const JobRecord& rec) {
  if (rec.stopped() || !rec.job.summary().periodic) return std::nullopt;
  const auto parsed = rec.job.parsed();
  const json& doc = *parsed;
  if (!doc.is_object()) return std::nullopt;
  Parent p;
  try {
    p.job = jobspec::job_from_json(doc);
  } catch (const std::exception&) {
    return std::nullopt;  // the scheduler says so each pass
  }
  if (!jobspec::periodic_active(p.job)) return std::nullopt;
  auto schedule = jobspec::PeriodicSchedule::of(*p.job.periodic);
  if (!schedule) {
    spdlog::warn("server: periodic job {}: {}", jk, schedule.message());
    return std::nullopt;
  }
  p.schedule = std::move(*schedule);
  int64_t until = 0;
  if (auto it = st.periodic_launches.find(jk); it != st.periodic_launches.end())
    until = it->second.value("Until", int64_t{0});
  // A job submitted (or changed) after its last launch counts from its submit time: a new
  // schedule starts then, as in Nomad.
  p.done_until = std::max(until, rec.value("SubmitTime", int64_t{0}) / kNsPerS);
  return p;
}

// A child of the parent launched by its crons that is not dead yet (prohibit_overlap).
bool child_alive(const ClusterState& st, const std::string& jk) {
  const std::string prefix = jk + "/periodic-";
  for (auto it = st.jobs.lower_bound(prefix); it != st.jobs.end() && it->first.rfind(prefix, 0) == 0;
       ++it)
    if (job_status(st, it->first, it->second) != "dead") return true;
  return false;
}

}  // namespace

PeriodicWrites periodic_launches(const ClusterState& st, const Keys& keys, int64_t now_ns) {
  PeriodicWrites out;
  const int64_t now = now_ns / kNsPerS;
  // The leader's view knows its periodic jobs (ClusterState::periodic_jobs); a state built
  // otherwise is looked through.
  std::vector<std::pair<const std::string*, const JobRecord*>> parents;
  if (st.indexed) {
    for (const auto& jk : st.periodic_jobs)
      if (auto it = st.jobs.find(jk); it != st.jobs.end())
        parents.emplace_back(&it->first, &it->second);
  } else {
    for (const auto& [jk, rec] : st.jobs) parents.emplace_back(&jk, &rec);
  }
  for (const auto& [jkp, recp] : parents) {
    const std::string& jk = *jkp;
    const JobRecord& rec = *recp;
    auto p = periodic_parent(st, jk, rec);
    if (!p) continue;
    auto at = p->schedule.due(p->done_until, now);
    if (!at) continue;
    const auto& job = p->job;
    // Every missed time up to now is covered by this one launch (or this one skip).
    out.puts.emplace_back(keys.periodic_launch(job.namespace_name, job.id),
                          json_text({{"Launch", *at}, {"Until", now}}));
    if (job.periodic->prohibit_overlap && child_alive(st, jk)) {
      spdlog::info("server: periodic job {}: launch at {} skipped: a child is still running "
                   "(prohibit_overlap)",
                   jk, *at);
      continue;
    }
    auto child = jobspec::periodic_child(job, *at);
    if (st.jobs.count(child.namespace_name + "/" + child.id)) continue;  // forced this second
    auto writes = new_job_writes(keys, child, "periodic-job", now_ns);
    out.puts.insert(out.puts.end(), writes.puts.begin(), writes.puts.end());
    out.launched.push_back(child.id);
  }
  return out;
}

std::optional<int64_t> next_periodic_launch(const ClusterState& st, const std::string& jk,
                                            int64_t now_s) {
  auto it = st.jobs.find(jk);
  if (it == st.jobs.end()) return std::nullopt;
  auto p = periodic_parent(st, jk, it->second);
  if (!p) return std::nullopt;
  return p->schedule.next_after(std::max(p->done_until, now_s - 1));
}

}  // namespace drover::server
