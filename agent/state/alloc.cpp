#include "state/alloc.hpp"

#include <chrono>
#include <ctime>
#include "drover/common/json_text.hpp"

namespace drover::state {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339(int64_t ns) {
  if (ns == 0) return "";
  std::time_t secs = ns / 1'000'000'000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%09lldZ", buf, static_cast<long long>(ns % 1'000'000'000));
  return out;
}

nlohmann::json to_json(const TaskEvent& e) {
  nlohmann::json details = nlohmann::json::object();
  for (const auto& [k, v] : e.details) details[k] = v;
  return {{"Type", e.type},         {"Time", e.time_ns},        {"Message", e.message},
          {"DisplayMessage", e.message}, {"ExitCode", e.exit_code}, {"Signal", e.signal},
          {"FailsTask", e.fails_task},   {"Details", details}};
}

nlohmann::json to_json(const TaskState& s) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : s.events) events.push_back(to_json(e));
  auto time_or_null = [](int64_t ns) -> nlohmann::json {
    return ns ? nlohmann::json(rfc3339(ns)) : nlohmann::json(nullptr);
  };
  return {{"State", to_string(s.state)},
          {"Failed", s.failed},
          {"Restarts", s.restarts},
          {"StartedAt", time_or_null(s.started_at_ns)},
          {"FinishedAt", time_or_null(s.finished_at_ns)},
          {"StartedAtNs", s.started_at_ns},
          {"FinishedAtNs", s.finished_at_ns},
          {"Events", events}};
}

namespace {
// Nomad's NetworkResource as allocated: {Mode, IP, MBits, ReservedPorts, DynamicPorts}, ports
// {Label, Value, To, HostNetwork}.
nlohmann::json network_json(const AllocatedNetwork& n) {
  nlohmann::json reserved = nlohmann::json::array(), dynamic = nlohmann::json::array();
  for (const auto& p : n.ports)
    (p.reserved ? reserved : dynamic)
        .push_back({{"Label", p.label},
                    {"Value", p.value},
                    {"To", p.to},
                    {"HostNetwork", p.host_network.empty() ? "default" : p.host_network},
                    {"HostIP", p.host_ip}});
  return {{"Mode", n.mode},
          {"IP", n.ip},
          {"MBits", n.mbits},
          {"ReservedPorts", reserved},
          {"DynamicPorts", dynamic}};
}
}  // namespace

nlohmann::json allocated_resources_json(const std::vector<AllocatedNetwork>& networks,
                                        const std::map<std::string, std::vector<int>>& cores) {
  nlohmann::json ports = nlohmann::json::array(), shared = nlohmann::json::array();
  nlohmann::json tasks = nlohmann::json::object();
  for (const auto& [task, cs] : cores) tasks[task]["Cpu"] = {{"ReservedCores", cs}};
  for (const auto& n : networks) {
    if (!n.task.empty()) {
      tasks[n.task]["Networks"].push_back(network_json(n));
      continue;
    }
    shared.push_back(network_json(n));
    for (const auto& p : n.ports)
      ports.push_back(
          {{"Label", p.label}, {"Value", p.value}, {"To", p.to}, {"HostIP", p.host_ip}});
  }
  return {{"Shared", {{"Ports", ports}, {"Networks", shared}}}, {"Tasks", tasks}};
}

std::map<std::string, std::vector<int>> reserved_cores_from_json(const nlohmann::json& j) {
  std::map<std::string, std::vector<int>> out;
  const auto& tasks = j.is_object() && j.contains("Tasks") ? j["Tasks"] : nlohmann::json();
  if (!tasks.is_object()) return out;
  for (const auto& [task, tj] : tasks.items()) {
    if (!tj.is_object() || !tj.contains("Cpu") || !tj["Cpu"].is_object()) continue;
    const auto& cs = tj["Cpu"].value("ReservedCores", nlohmann::json::array());
    for (const auto& c : cs)
      if (c.is_number_integer()) out[task].push_back(c.get<int>());
  }
  return out;
}

std::vector<AllocatedNetwork> allocated_networks_from_json(const nlohmann::json& j) {
  std::vector<AllocatedNetwork> out;
  if (!j.is_object()) return out;
  auto read = [&](const nlohmann::json& nj, const std::string& task) {
    AllocatedNetwork n;
    n.task = task;
    n.mode = nj.value("Mode", n.mode);
    n.ip = nj.value("IP", "");
    n.mbits = nj.value("MBits", 0);
    for (const char* which : {"ReservedPorts", "DynamicPorts"}) {
      if (!nj.contains(which) || !nj[which].is_array()) continue;
      for (const auto& pj : nj[which]) {
        AllocatedPort p;
        p.label = pj.value("Label", "");
        p.value = pj.value("Value", 0);
        p.to = pj.value("To", 0);
        p.host_ip = pj.value("HostIP", "");
        p.host_network = pj.value("HostNetwork", "");
        if (p.host_network == "default") p.host_network.clear();
        p.reserved = std::string_view(which) == "ReservedPorts";
        n.ports.push_back(std::move(p));
      }
    }
    out.push_back(std::move(n));
  };
  if (j.contains("Shared") && j["Shared"].contains("Networks") &&
      j["Shared"]["Networks"].is_array())
    for (const auto& nj : j["Shared"]["Networks"]) read(nj, "");
  if (j.contains("Tasks") && j["Tasks"].is_object())
    for (const auto& [task, tj] : j["Tasks"].items())
      if (tj.contains("Networks") && tj["Networks"].is_array())
        for (const auto& nj : tj["Networks"]) read(nj, task);
  return out;
}

// The fields every alloc JSON shares (the API's, the store's row).
static nlohmann::json header_json(const Alloc& a) {
  return {{"ID", a.id},
          {"Name", a.name},
          {"Namespace", a.namespace_},
          {"JobID", a.job_id},
          {"TaskGroup", a.group},
          {"Index", a.index},
          {"ClientStatus", a.client_status},
          {"ClientDescription", a.client_description},
          {"DesiredStatus", a.desired_status},
          {"CreateTime", a.create_time_ns},
          {"ModifyTime", a.modify_time_ns},
          {"DeploymentStatus", a.deployment_status},
          {"AllocatedResources", allocated_resources_json(a.networks, a.reserved_cores)},
          {"PreviousAllocation", a.previous_alloc},
          {"NetworkStatus", a.network_status}};
}

nlohmann::json to_row_json(const Alloc& a) {
  auto j = header_json(a);
  j["Job"] = a.job ? *a.job : nlohmann::json();
  return j;
}

nlohmann::json to_json(const Alloc& a, bool with_job) {
  auto j = header_json(a);
  // The API's, not the store's: a restarted agent stamps new ones (alloc.hpp).
  j["CreateIndex"] = a.create_index;
  j["ModifyIndex"] = a.modify_index;
  nlohmann::json states = nlohmann::json::object();
  for (const auto& [name, s] : a.tasks) states[name] = to_json(s);
  j["TaskStates"] = std::move(states);
  if (with_job) j["Job"] = a.job ? *a.job : nlohmann::json();
  return j;
}

TaskEvent task_event_from_json(const nlohmann::json& j) {
  TaskEvent e;
  e.type = j.value("Type", "");
  e.time_ns = j.value("Time", int64_t{0});
  e.message = j.value("Message", "");
  e.exit_code = j.value("ExitCode", 0);
  e.signal = j.value("Signal", 0);
  e.fails_task = j.value("FailsTask", false);
  if (j.contains("Details") && j["Details"].is_object())
    for (const auto& [k, v] : j["Details"].items())
      e.details[k] = v.is_string() ? v.get<std::string>() : json_text(v);
  return e;
}

const char* to_string(TaskPhase p) {
  switch (p) {
    case TaskPhase::Running: return "running";
    case TaskPhase::Dead: return "dead";
    case TaskPhase::Pending: break;
  }
  return "pending";
}

TaskPhase task_phase_from_string(const std::string& s) {
  if (s == "running") return TaskPhase::Running;
  if (s == "dead") return TaskPhase::Dead;
  return TaskPhase::Pending;
}

TaskState task_state_from_json(const nlohmann::json& j) {
  TaskState s;
  s.state = task_phase_from_string(j.value("State", "pending"));
  s.failed = j.value("Failed", false);
  s.restarts = j.value("Restarts", 0);
  s.started_at_ns = j.value("StartedAtNs", int64_t{0});
  s.finished_at_ns = j.value("FinishedAtNs", int64_t{0});
  if (j.contains("Events"))
    for (const auto& e : j["Events"]) s.events.push_back(task_event_from_json(e));
  return s;
}

}  // namespace drover::state
