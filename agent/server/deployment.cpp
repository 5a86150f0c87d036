// Deployments for rolling updates; see deployment.hpp.
#include "server/deployment.hpp"

#include "drover/common/encoding.hpp"
#include "state/alloc.hpp"

namespace drover::server {

using nlohmann::json;

json new_deployment(const jobspec::Job& job, int version, int64_t now_ns) {
  json groups = json::object();
  for (const auto& g : job.groups) {
    const auto* u = rolling_update_of(job, g);
    if (!u) continue;
    const int64_t by = u->progress_deadline.count() > 0 ? now_ns + u->progress_deadline.count() : 0;
    groups[g.name] = {{"AutoRevert", u->auto_revert},
                      {"AutoPromote", u->auto_promote},
                      {"ProgressDeadline", u->progress_deadline.count()},
                      {"RequireProgressBy", state::rfc3339(by)},
                      {"RequireProgressByNs", by},
                      {"Promoted", false},
                      {"DesiredCanaries", 0},
                      {"DesiredTotal", g.count},
                      {"PlacedAllocs", 0},
                      {"HealthyAllocs", 0},
                      {"UnhealthyAllocs", 0}};
  }
  return {{"ID", random_uuid()},
          {"Namespace", job.namespace_name},
          {"JobID", job.id},
          {"JobVersion", version},
          {"JobSpecModifyIndex", version},
          {"Status", "running"},
          {"StatusDescription", "Deployment is running"},
          {"TaskGroups", groups},
          {"EvalPriority", job.priority},
          {"CreateTime", now_ns},
          {"ModifyTime", now_ns}};
}

AllocHealth alloc_health(const AllocView& a) {
  if (a.client_status() == "failed") return AllocHealth::Unhealthy;
  if (!a.status.is_object()) return AllocHealth::Pending;
  auto ds = a.status.find("DeploymentStatus");
  if (ds == a.status.end() || !ds->is_object() || !ds->contains("Healthy") ||
      !(*ds)["Healthy"].is_boolean())
    return AllocHealth::Pending;
  return (*ds)["Healthy"].get<bool>() ? AllocHealth::Healthy : AllocHealth::Unhealthy;
}

void record_tally(json& d, const std::string& group, const GroupTally& t, int64_t now_ns) {
  json& g = d["TaskGroups"][group];
  // Progress is a newly healthy alloc: the deadline counts again from now (Nomad's
  // RequireProgressBy).
  const int64_t pd = g.value("ProgressDeadline", int64_t{0});
  if (pd > 0 && t.healthy > g.value("HealthyAllocs", 0)) {
    g["RequireProgressByNs"] = now_ns + pd;
    g["RequireProgressBy"] = state::rfc3339(now_ns + pd);
  }
  const int canaries = g.value("DesiredCanaries", 0);
  // Not while paused: auto_promote waits for the resume, as Nomad's watcher does.
  if (canaries > 0 && !g.value("Promoted", false) && t.healthy_canaries >= canaries &&
      g.value("AutoPromote", false) && d.value("Status", "") == "running")
    g["Promoted"] = true;
  g["DesiredTotal"] = t.desired;
  g["PlacedAllocs"] = t.placed;
  g["HealthyAllocs"] = t.healthy;
  g["UnhealthyAllocs"] = t.unhealthy;
}

std::string judge_deployment(json& d, const std::map<std::string, GroupTally>& tallies,
                             int64_t now_ns) {
  if (!deployment_active(d)) return "";
  if (d.value("FailRequested", false)) {
    d.erase("FailRequested");
    d["Status"] = "failed";
    d["StatusDescription"] = "Deployment marked as failed";
    return "failed";
  }
  if (d.value("Status", "") == "paused") return "";
  d["StatusDescription"] = "Deployment is running";
  bool done = true;
  for (const auto& [name, t] : tallies) {
    const json& g = d["TaskGroups"][name];
    if (t.unhealthy > 0) {
      d["Status"] = "failed";
      d["StatusDescription"] = "Failed due to unhealthy allocations";
      return "failed";
    }
    const bool group_done = t.healthy >= t.desired && !t.old_left;
    const int canaries = g.value("DesiredCanaries", 0);
    const bool awaiting_promotion =
        canaries > 0 && !g.value("Promoted", false) && t.healthy_canaries >= canaries;
    if (awaiting_promotion)
      d["StatusDescription"] = "Deployment is running but requires manual promotion";
    const int64_t by = g.value("RequireProgressByNs", int64_t{0});
    if (!group_done && !awaiting_promotion && by > 0 && now_ns > by) {
      d["Status"] = "failed";
      d["StatusDescription"] = "Failed due to progress deadline";
      return "failed";
    }
    done = done && group_done;
  }
  if (!done) return "";
  d["Status"] = "successful";
  d["StatusDescription"] = "Deployment completed successfully";
  return "successful";
}

bool deployment_active(const json& d) {
  const std::string s = d.value("Status", "");
  return s == "running" || s == "paused";
}

namespace {

std::string not_active(const json& d, const char* what) {
  return "deployment \"" + d.value("ID", "") + "\" is " + d.value("Status", "") +
         ": only a running or paused deployment can be " + what;
}

}  // namespace

std::optional<std::string> pause_deployment(json& d, bool pause, int64_t now_ns) {
  if (!deployment_active(d)) return not_active(d, pause ? "paused" : "resumed");
  if (pause) {
    d["Status"] = "paused";
    d["StatusDescription"] = "Deployment is paused";
  } else if (d.value("Status", "") == "paused") {
    d["Status"] = "running";
    d["StatusDescription"] = "Deployment is running";
    // The time paused is not the new version's fault: each deadline counts again from now.
    for (auto& [name, g] : d["TaskGroups"].items()) {
      const int64_t pd = g.value("ProgressDeadline", int64_t{0});
      if (pd <= 0) continue;
      g["RequireProgressByNs"] = now_ns + pd;
      g["RequireProgressBy"] = state::rfc3339(now_ns + pd);
    }
  }
  d["ModifyTime"] = now_ns;
  return std::nullopt;
}

std::optional<std::string> request_deployment_failure(json& d, int64_t now_ns) {
  if (!deployment_active(d)) return not_active(d, "failed");
  d["FailRequested"] = true;
  d["ModifyTime"] = now_ns;
  return std::nullopt;
}

bool auto_reverts(const json& d) {
  const json groups = d.value("TaskGroups", json::object());  // a range-for needs it alive
  for (const auto& [name, g] : groups.items())
    if (g.value("AutoRevert", false)) return true;
  return false;
}

const JobRecord* last_stable_version(const std::map<int, JobRecord>& versions, int version) {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it)
    if (it->first < version && it->second.value("Stable", false) &&
        !it->second.value("Stop", false))
      return &it->second;
  return nullptr;
}

}  // namespace drover::server
