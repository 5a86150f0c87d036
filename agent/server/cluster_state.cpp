// Sorting one etcd range into the cluster's parts; see cluster_state.hpp.
#include "server/cluster_state.hpp"

#include <regex>

#include "state/alloc.hpp"

namespace drover::server {

using nlohmann::json;

std::string AllocView::client_status() const {
  if (alloc.value("ClientStatus", "") == "lost") return "lost";
  if (status.is_object()) {
    auto s = status.value("ClientStatus", "");
    if (!s.empty()) return s;
  }
  return "pending";
}

int AllocView::index() const {
  static const std::regex kIndex(R"(.*\[(\d{1,6})\]$)");
  std::smatch m;
  std::string name = alloc.value("Name", "");
  if (std::regex_match(name, m, kIndex)) return std::stoi(m[1].str());
  return 0;
}

bool AllocView::live() const {
  if (desired() != "run") return false;
  auto s = client_status();
  return s != "complete" && s != "failed" && s != "lost";
}

std::string job_status(const ClusterState& st, const std::string& jk, const json& rec) {
  if (rec.value("Stop", false)) return "dead";
  static const json kNone = json::object();
  const json& job = rec.contains("Job") ? rec["Job"] : kNone;
  const bool periodic = job.contains("Periodic") && !job["Periodic"].is_null();
  const bool parameterized = job.contains("ParameterizedJob") &&
                             !job["ParameterizedJob"].is_null() && !job.value("Dispatched", false);
  if (periodic || parameterized) return "running";
  bool any = false;
  for (const auto& [id, a] : st.allocs) {
    if (a.job_key() != jk) continue;
    any = true;
    if (a.desired() == "run" && (a.client_status() == "running" || a.client_status() == "pending"))
      return "running";
  }
  return any ? "dead" : "pending";
}

std::string enforce_index_problem(const ClusterState& st, const std::string& jk, int64_t index) {
  const std::string what = "Enforcing job modify index " + std::to_string(index) + ": ";
  if (!st.jobs.count(jk)) return index == 0 ? "" : what + "job does not exist";
  if (index == 0) return what + "job already exists";
  auto it = st.job_modify_index.find(jk);
  const int64_t current = it == st.job_modify_index.end() ? 0 : it->second;
  if (index == current) return "";
  return what + "job exists with conflicting job modify index: " + std::to_string(current);
}

bool node_ready(const json& node) {
  return node.value("Status", "ready") == "ready" &&
         node.value("SchedulingEligibility", "eligible") == "eligible";
}

namespace {

// "a/b/c" after `base` -> the part before the last '/' and after it.
bool split_last(const std::string& rest, std::string& head, std::string& tail) {
  auto slash = rest.rfind('/');
  if (slash == std::string::npos) return false;
  head = rest.substr(0, slash);
  tail = rest.substr(slash + 1);
  return true;
}

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

ClusterState read_cluster_state(const upstream::EtcdRange& range, const Keys& keys) {
  ClusterState st;
  st.revision = range.revision;
  std::map<std::string, json> statuses;  // by alloc id
  std::map<std::string, std::map<int, int64_t>> version_created;  // job -> version -> revision
  for (const auto& kv : range.kvs) {
    const auto& k = kv.key;
    if (k == keys.leader()) {
      st.leader_value = kv.value;
      continue;
    }
    auto parse = [&] { return json::parse(kv.value, nullptr, false); };
    if (k == keys.scheduler_config()) {
      // Written by PUT /v1/operator/scheduler/configuration, which checked it.
      if (auto c = scheduler_config_from_json(parse(), st.scheduler)) {
        st.scheduler = c.value();
        st.scheduler_stored = true;
      }
      continue;
    }
    if (starts(k, keys.nodes())) {
      auto j = parse();
      if (j.is_object()) st.nodes[k.substr(keys.nodes().size())] = std::move(j);
    } else if (starts(k, keys.allocs())) {
      std::string node, id;
      if (!split_last(k.substr(keys.allocs().size()), node, id)) continue;
      auto j = parse();
      if (!j.is_object()) continue;
      AllocView a;
      a.id = id;
      a.node_id = node;
      a.alloc = std::move(j);
      a.key = k;
      st.allocs[id] = std::move(a);
    } else if (starts(k, keys.status())) {
      std::string node, id;
      if (!split_last(k.substr(keys.status().size()), node, id)) continue;
      auto j = parse();
      if (j.is_object()) statuses[id] = std::move(j);
    } else if (starts(k, keys.jobs())) {
      auto j = parse();
      if (j.is_object()) st.jobs[k.substr(keys.jobs().size())] = std::move(j);
    } else if (starts(k, keys.job_versions_all())) {
      std::string job, version;
      if (!split_last(k.substr(keys.job_versions_all().size()), job, version)) continue;
      auto j = parse();
      // The version first: the assignment's right side (the move) is evaluated before its left.
      if (!j.is_object()) continue;
      const int v = j.value("Version", 0);
      st.job_versions[job][v] = std::move(j);
      version_created[job][v] = kv.create_revision;
    } else if (starts(k, keys.deployments())) {
      auto j = parse();
      if (j.is_object()) st.deployments[k.substr(keys.deployments().size())] = std::move(j);
    } else if (starts(k, keys.evals())) {
      auto j = parse();
      if (j.is_object()) st.evals[k.substr(keys.evals().size())] = std::move(j);
    } else if (starts(k, keys.node_controls())) {
      auto j = parse();
      if (j.is_object()) st.controls[k.substr(keys.node_controls().size())] = std::move(j);
    } else if (starts(k, keys.periodic_launches())) {
      auto j = parse();
      if (j.is_object())
        st.periodic_launches[k.substr(keys.periodic_launches().size())] = std::move(j);
    } else if (starts(k, keys.servers())) {
      auto j = parse();
      if (j.is_object()) st.servers[k.substr(keys.servers().size())] = std::move(j);
    }
  }
  // The operator's eligibility and drain show in the node as Nomad shows them.
  for (const auto& [id, c] : st.controls) {
    auto it = st.nodes.find(id);
    if (it == st.nodes.end()) continue;
    json& n = it->second;
    n["SchedulingEligibility"] = c.value("Eligibility", "eligible");
    n["Drain"] = c.value("Drain", false);
    n["DrainStrategy"] = nullptr;
    if (n["Drain"].get<bool>()) {
      const int64_t deadline = c.value("Deadline", int64_t{0}),
                    started = c.value("StartedAt", int64_t{0});
      n["DrainStrategy"] = {
          {"Deadline", deadline},
          {"IgnoreSystemJobs", c.value("IgnoreSystemJobs", false)},
          {"StartedAt", state::rfc3339(started)},
          {"ForceDeadline", deadline > 0 ? state::rfc3339(started + deadline) : ""}};
    }
    if (c.contains("LastDrain")) {
      json last = c["LastDrain"];
      last["StartedAt"] = state::rfc3339(last.value("StartedAt", int64_t{0}));
      last["UpdatedAt"] = state::rfc3339(last.value("UpdatedAt", int64_t{0}));
      n["LastDrain"] = last;
    }
  }
  for (const auto& [jk, rec] : st.jobs) {
    auto job = version_created.find(jk);
    if (job == version_created.end()) continue;
    auto v = job->second.find(rec.value("Version", 0));
    if (v != job->second.end()) st.job_modify_index[jk] = v->second;
  }
  for (auto& [id, s] : statuses)
    if (auto it = st.allocs.find(id); it != st.allocs.end()) it->second.status = std::move(s);
  return st;
}

}  // namespace drover::server
