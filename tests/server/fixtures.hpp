// Nodes and jobs for the server's unit tests, in the shapes etcd holds them.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "jobspec/parse.hpp"
#include "server/keys.hpp"

namespace drover::server::testing {

// The key prefix the tests' cluster state lives under, and the clock they place and judge by.
inline const Keys kKeys{"/drover"};
inline constexpr int64_t kNow = 1'000'000'000'000'000'000LL;
inline constexpr int64_t kSecond = 1'000'000'000LL;

inline nlohmann::json node(const std::string& id, int cpu = 4000, int mem = 4096,
                           const std::string& dc = "dc1") {
  return {{"ID", id},
          {"Name", "node-" + id},
          {"Datacenter", dc},
          {"NodePool", "default"},
          {"Status", "ready"},
          {"SchedulingEligibility", "eligible"},
          {"Attributes", {{"kernel.name", "linux"}, {"driver.raw_exec", "true"}}},
          {"Drivers", {{"raw_exec", {{"Detected", true}, {"Healthy", true}}}}},
          {"NodeResources", {{"Cpu", {{"CpuShares", cpu}}}, {"Memory", {{"MemoryMB", mem}}}}}};
}

// Starts draining `node` as `node drain -enable` does (the control key, and the node as
// read_cluster_state shows it): deadline_ns 0 = none, < 0 = force.
template <typename State>
void drain(State& st, const std::string& node, int64_t started_ns, int64_t deadline_ns = 0,
           bool ignore_system = false) {
  st.controls[node] = {{"Eligibility", "ineligible"},
                       {"Drain", true},
                       {"Deadline", deadline_ns},
                       {"IgnoreSystemJobs", ignore_system},
                       {"StartedAt", started_ns}};
  st.nodes[node]["Drain"] = true;
  st.nodes[node]["SchedulingEligibility"] = "ineligible";
}

inline jobspec::Job job(const std::string& yaml) {
  auto r = jobspec::parse_job(yaml);
  if (!r.job) throw std::runtime_error(jobspec::format_problems(r.problems));
  return *r.job;
}

// The job key's value a registration writes, as plan_cluster reads it.
inline nlohmann::json record_of(const jobspec::Job& j, int version = 0) {
  return {{"ID", j.id},
          {"Namespace", j.namespace_name},
          {"Version", version},
          {"Job", jobspec::to_json(j)}};
}

// Writes a plan's alloc keys into the state as etcd would: a new alloc with `status` as its
// node's report (null: none yet), one already there keeping the report it had.
template <typename State, typename PlanT>
void apply_allocs(State& st, const PlanT& plan, const std::string& allocs_prefix,
                  const nlohmann::json& status = nullptr) {
  for (const auto& [k, v] : plan.puts) {
    if (k.rfind(allocs_prefix, 0) != 0) continue;
    typename decltype(st.allocs)::mapped_type a;
    a.alloc = nlohmann::json::parse(v);
    a.id = a.alloc["ID"];
    a.node_id = a.alloc["NodeID"];
    a.key = k;
    auto old = st.allocs.find(a.id);
    a.status = old != st.allocs.end() ? old->second.status : status;
    st.allocs[a.id] = a;
  }
}

// The plan's puts under `allocs_prefix`, parsed, by alloc id.
template <typename PlanT>
std::map<std::string, nlohmann::json> plan_allocs(const PlanT& plan, const std::string& allocs_prefix) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& [k, v] : plan.puts)
    if (k.rfind(allocs_prefix, 0) == 0) {
      auto j = nlohmann::json::parse(v);
      out[j["ID"]] = j;
    }
  return out;
}

// Writes a plan's allocs (each keeping the report its node made) and evaluations into the
// state, as etcd would.
template <typename State, typename PlanT, typename KeysT>
void apply_plan(State& st, const PlanT& plan, const KeysT& keys) {
  for (const auto& [id, a] : plan_allocs(plan, keys.allocs())) {
    typename decltype(st.allocs)::mapped_type v;
    v.id = id;
    v.node_id = a["NodeID"];
    v.take(a);
    v.key = keys.alloc(v.node_id, id);
    if (auto it = st.allocs.find(id); it != st.allocs.end()) v.status = it->second.status;
    st.allocs[id] = v;
  }
  for (const auto& [k, v] : plan.puts)
    if (k.rfind(keys.evals(), 0) == 0) {
      auto e = nlohmann::json::parse(v);
      st.evals[e["ID"]] = e;
    }
}

inline std::string web(int count, int memory = 300, const std::string& extra = "") {
  return "job:\n  id: web\n  type: service\n" + extra +
         "  groups:\n    - name: g\n      count: " + std::to_string(count) +
         "\n      tasks:\n        - name: t\n          driver: raw_exec\n          config:\n"
         "            command: /bin/true\n          resources:\n            memory: " +
         std::to_string(memory) + "\n";
}

}  // namespace drover::server::testing
