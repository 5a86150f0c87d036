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

// The fields every alloc JSON shares (the API's, the store's row).
static nlohmann::json header_json(const Alloc& a) {
  return {{"ID", a.id},
          {"Name", a.name},
          {"JobID", a.job_id},
          {"TaskGroup", a.group},
          {"Index", a.index},
          {"ClientStatus", a.client_status},
          {"ClientDescription", a.client_description},
          {"DesiredStatus", a.desired_status},
          {"CreateTime", a.create_time_ns},
          {"ModifyTime", a.modify_time_ns},
          {"DeploymentStatus", a.deployment_status}};
}

nlohmann::json to_row_json(const Alloc& a) {
  auto j = header_json(a);
  j["Job"] = a.job ? *a.job : nlohmann::json();
  return j;
}

nlohmann::json to_json(const Alloc& a, bool with_job) {
  auto j = header_json(a);
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
