// The dry-run of a job registration and Nomad's job diff; see job_plan.hpp.
#include "server/job_plan.hpp"

#include <map>
#include <set>

#include "server/scheduler.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

std::string scalar_text(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

bool is_leaf(const json& v) {
  if (!v.is_array()) return !v.is_object();
  for (const auto& e : v)
    if (e.is_object() || e.is_array()) return false;
  return true;
}

const char* diff_type(const json& a, const json& b) {
  if (a.is_null() && b.is_null()) return "None";
  if (a.is_null()) return "Added";
  if (b.is_null()) return "Deleted";
  return a == b ? "None" : "Edited";
}

json object_diff(const std::string& name, const json& a, const json& b);

// The Fields and Objects of two objects' keys, skipping `skip` (handled by the caller).
void diff_members(const json& a, const json& b, const std::set<std::string>& skip, json& out) {
  std::set<std::string> keys;
  for (const json* o : {&a, &b})
    if (o->is_object())
      for (const auto& [k, v] : o->items()) keys.insert(k);
  json fields = json::array(), objects = json::array();
  for (const auto& k : keys) {
    if (skip.count(k)) continue;
    const json va = a.is_object() && a.contains(k) ? a[k] : json(nullptr);
    const json vb = b.is_object() && b.contains(k) ? b[k] : json(nullptr);
    if (va == vb) continue;
    if (is_leaf(va) && is_leaf(vb)) {
      if (va.is_null() && vb.is_array() && vb.empty()) continue;  // nothing either way
      if (vb.is_null() && va.is_array() && va.empty()) continue;
      fields.push_back({{"Type", diff_type(va, vb)},
                        {"Name", k},
                        {"Old", is_leaf(va) && va.is_array() ? va.dump() : scalar_text(va)},
                        {"New", is_leaf(vb) && vb.is_array() ? vb.dump() : scalar_text(vb)},
                        {"Annotations", nullptr}});
    } else if (va.is_array() || vb.is_array()) {
      // An array of objects: element by element.
      const std::size_t n = std::max(va.is_array() ? va.size() : 0, vb.is_array() ? vb.size() : 0);
      for (std::size_t i = 0; i < n; ++i) {
        json ea = va.is_array() && i < va.size() ? va[i] : json(nullptr);
        json eb = vb.is_array() && i < vb.size() ? vb[i] : json(nullptr);
        if (ea != eb) objects.push_back(object_diff(k, ea, eb));
      }
    } else {
      objects.push_back(object_diff(k, va, vb));
    }
  }
  out["Fields"] = fields.empty() ? json(nullptr) : fields;
  out["Objects"] = objects.empty() ? json(nullptr) : objects;
}

json object_diff(const std::string& name, const json& a, const json& b) {
  json out = {{"Type", diff_type(a, b)}, {"Name", name}};
  diff_members(a, b, {}, out);
  return out;
}

// Elements of two arrays of named objects (groups, tasks) paired by Name.
std::map<std::string, std::pair<json, json>> by_name(const json& a, const json& b,
                                                     const char* list) {
  std::map<std::string, std::pair<json, json>> out;
  if (a.is_object())
    for (const auto& e : a.value(list, json::array())) out[e.value("Name", "")].first = e;
  if (b.is_object())
    for (const auto& e : b.value(list, json::array())) out[e.value("Name", "")].second = e;
  return out;
}

}  // namespace

json job_diff(const json& old_job, const json& new_job) {
  const json& any = new_job.is_null() ? old_job : new_job;
  json out = {{"Type", diff_type(old_job, new_job)}, {"ID", any.value("ID", "")}};
  diff_members(old_job, new_job, {"TaskGroups"}, out);
  json groups = json::array();
  for (const auto& [name, pair] : by_name(old_job, new_job, "TaskGroups")) {
    const auto& [ga, gb] = pair;
    json g = {{"Type", diff_type(ga, gb)}, {"Name", name}, {"Updates", nullptr}};
    diff_members(ga, gb, {"Tasks"}, g);
    json tasks = json::array();
    for (const auto& [tname, tpair] : by_name(ga, gb, "Tasks")) {
      json t = {{"Type", diff_type(tpair.first, tpair.second)},
                {"Name", tname},
                {"Annotations", nullptr}};
      diff_members(tpair.first, tpair.second, {}, t);
      tasks.push_back(t);
    }
    g["Tasks"] = tasks;
    groups.push_back(g);
  }
  out["TaskGroups"] = groups;
  return out;
}

json plan_job(const ClusterState& st, const Keys& keys, const jobspec::Job& job, int64_t now_ns) {
  const std::string jk = job.namespace_name + "/" + job.id;
  const json job_doc = jobspec::to_json(job);
  ClusterState what_if = st;
  auto cur = st.jobs.find(jk);
  int version = 0;
  int64_t modify_index = -1;
  json old_doc = nullptr;
  if (cur != st.jobs.end()) {
    auto index = st.job_modify_index.find(jk);
    modify_index = index == st.job_modify_index.end() ? 0 : index->second;
    if (cur->second.job) old_doc = *cur->second.job.parsed();
    version = cur->second.version() + (old_doc != job_doc || cur->second.stopped() ? 1 : 0);
  }
  json rec = {{"ID", job.id},          {"Namespace", job.namespace_name},
              {"Version", version},    {"Stop", false},
              {"SubmitTime", now_ns},  {"Job", job_doc}};
  what_if.jobs[jk] = rec;
  what_if.job_versions[jk][version] = rec;
  // A pending evaluation, as a registration writes, so that the pass reports its outcome.
  const std::string eval_id = "plan-dry-run";
  what_if.evals[eval_id] = {{"ID", eval_id},       {"Namespace", job.namespace_name},
                            {"JobID", job.id},     {"Type", jobspec::to_string(job.type)},
                            {"Status", "pending"}, {"TriggeredBy", "job-register"},
                            {"CreateTime", now_ns}};
  const Plan plan = plan_cluster(what_if, keys, now_ns);

  json updates = json::object();
  // Every group of the job has its counts, zero when the plan does not touch it.
  auto counts_of = [&](const std::string& group) -> json& {
    json& g = updates[group];
    if (g.is_null())
      g = {{"Place", 0},  {"Stop", 0},   {"Migrate", 0}, {"InPlaceUpdate", 0}, {"DestructiveUpdate", 0},
           {"Canary", 0}, {"Ignore", 0}, {"Preemptions", 0}};
    return g;
  };
  auto bump = [&](const std::string& group, const char* what) {
    json& g = counts_of(group);
    g[what] = g[what].get<int>() + 1;
  };
  for (const auto& g : job.groups) counts_of(g.name);
  json failed = nullptr;
  std::set<std::string> touched, names_placed;
  std::vector<json> placed, stopped;  // this job's new allocs; its live allocs the plan stops
  std::vector<json> evicted;          // other jobs' allocs the plan preempts
  for (const auto& [k, v] : plan.puts) {
    json j = json::parse(v, nullptr, false);
    if (!j.is_object()) continue;
    if (k == keys.eval(eval_id)) {
      failed = j.value("FailedTGAllocs", json(nullptr));
      continue;
    }
    if (k.rfind(keys.allocs(), 0) == 0 && j.value("DesiredStatus", "") == "evict" &&
        j.contains("PreemptedByAllocation")) {
      evicted.push_back(std::move(j));
      continue;
    }
    if (k.rfind(keys.allocs(), 0) != 0 || j.value("JobID", "") != job.id ||
        j.value("Namespace", "default") != job.namespace_name)
      continue;
    auto old = st.allocs.find(j.value("ID", ""));
    if (old == st.allocs.end()) {
      names_placed.insert(j.value("Name", ""));
      placed.push_back(std::move(j));
      continue;
    }
    touched.insert(old->first);
    if (!old->second.live()) continue;
    if (j.value("DesiredStatus", "run") != "run")
      stopped.push_back(std::move(j));
    else if (j.value("JobVersion", 0) != old->second.alloc.value("JobVersion", 0))
      bump(j.value("TaskGroup", ""), "InPlaceUpdate");
  }
  // A stop is a migration (draining node), half of a destructive update (a new alloc takes its
  // name), or a stop for good.
  std::set<std::string> replaced_names;
  for (const auto& j : stopped) {
    const bool migrating =
        j.contains("DesiredTransition") && j["DesiredTransition"].value("Migrate", false);
    if (migrating) bump(j.value("TaskGroup", ""), "Migrate");
    if (migrating || names_placed.count(j.value("Name", "")))
      replaced_names.insert(j.value("Name", ""));
    else
      bump(j.value("TaskGroup", ""), "Stop");
  }
  for (const auto& j : placed) {
    const std::string group = j.value("TaskGroup", "");
    if (j.value("Canary", false))
      bump(group, "Canary");
    else if (replaced_names.count(j.value("Name", "")))
      bump(group, "DestructiveUpdate");
    else
      bump(group, "Place");
  }
  for (const auto& [id, a] : st.allocs)
    if (a.job_key() == jk && a.live() && !touched.count(id)) bump(a.group(), "Ignore");
  // Nomad's preemption annotations: the allocs this job's placements would evict, counted
  // under the group that evicts them.
  json preempted = nullptr;
  for (const auto& e : evicted) {
    for (const auto& p : placed) {
      if (p.value("ID", "") != e.value("PreemptedByAllocation", "")) continue;
      bump(p.value("TaskGroup", ""), "Preemptions");
      if (preempted.is_null()) preempted = json::array();
      json stub = json::object();
      for (const char* key : {"ID", "Name", "Namespace", "JobID", "TaskGroup", "NodeID", "NodeName"})
        stub[key] = e.value(key, json(""));
      preempted.push_back(std::move(stub));
    }
  }
  return {{"Annotations", {{"DesiredTGUpdates", updates}, {"PreemptedAllocs", preempted}}},
          {"FailedTGAllocs", failed},
          {"JobModifyIndex", modify_index},
          {"CreatedEvals", nullptr},
          {"NextPeriodicLaunch", nullptr},
          {"Warnings", ""},
          {"Diff", job_diff(old_doc, job_doc)}};
}

}  // namespace drover::server
