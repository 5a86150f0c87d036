// The allocation model: one task group placed on this node, with the state of each task.
// Field names follow Nomad's client API so the JSON the API serves is Nomad's shape.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace drover::state {

// Nomad's task event types (docs/nomad-compat.md, "Task events").
namespace event {
inline constexpr const char* kReceived = "Received";
inline constexpr const char* kTaskSetup = "Task Setup";
inline constexpr const char* kStarted = "Started";
inline constexpr const char* kTerminated = "Terminated";
inline constexpr const char* kRestarting = "Restarting";
inline constexpr const char* kNotRestarting = "Not Restarting";
inline constexpr const char* kKilling = "Killing";
inline constexpr const char* kWaitingShutdownDelay = "Waiting for shutdown delay";
inline constexpr const char* kKilled = "Killed";
inline constexpr const char* kDriverFailure = "Driver Failure";
inline constexpr const char* kSetupFailure = "Setup Failure";
inline constexpr const char* kFailedRestoring = "Failed Restoring Task";
inline constexpr const char* kReconnected = "Reconnected";
inline constexpr const char* kSignaling = "Signaling";
inline constexpr const char* kRestartSignaled = "Restart Signaled";
inline constexpr const char* kSiblingFailed = "Sibling Task Failed";
inline constexpr const char* kLeaderDead = "Leader Task Dead";
inline constexpr const char* kMainDead = "Main Tasks Dead";
inline constexpr const char* kDiskExceeded = "Disk Resources Exceeded";
}  // namespace event

struct TaskEvent {
  std::string type;
  int64_t time_ns = 0;
  std::string message;
  int exit_code = 0;
  int signal = 0;
  bool fails_task = false;
  std::map<std::string, std::string> details;
};

// A task's state, as Nomad names it in the API ("pending", "running", "dead"): pending until
// it starts and again while it waits to restart, dead once it will not run again.
enum class TaskPhase { Pending, Running, Dead };
const char* to_string(TaskPhase p);
// "pending", "running" or "dead"; anything else reads as pending.
TaskPhase task_phase_from_string(const std::string& s);

struct TaskState {
  TaskPhase state = TaskPhase::Pending;
  bool failed = false;
  int restarts = 0;
  int64_t started_at_ns = 0;   // 0: never
  int64_t finished_at_ns = 0;  // 0: not finished
  std::vector<TaskEvent> events;
};

// --- Allocated networks (docs/networking.md) ---------------------------------------------
// A port given to an alloc: Nomad's AllocatedPortMapping {Label, Value, To, HostIP}.
struct AllocatedPort {
  std::string label;
  int value = 0;  // the host port
  int to = 0;     // the port inside the task; 0: the host port
  std::string host_ip;
  std::string host_network;  // "" : the default network
  bool reserved = false;     // asked for as a static port
  bool operator==(const AllocatedPort&) const = default;
};

// One network block as allocated: the group's (task "") or a task's older resources.network.
struct AllocatedNetwork {
  std::string task;  // "" for the group's network
  std::string mode = "host";
  std::string ip;  // the default network's address
  int mbits = 0;
  std::vector<AllocatedPort> ports;
  bool operator==(const AllocatedNetwork&) const = default;
};

// Nomad's AllocatedResources JSON: {Shared: {Ports, Networks}, Tasks: {name: {Networks}}}.
nlohmann::json allocated_resources_json(const std::vector<AllocatedNetwork>& networks,
                                        const std::map<std::string, std::vector<int>>& cores = {});
std::vector<AllocatedNetwork> allocated_networks_from_json(const nlohmann::json& j);
// Each task's Cpu.ReservedCores from an AllocatedResources object.
std::map<std::string, std::vector<int>> reserved_cores_from_json(const nlohmann::json& j);
// --- end allocated networks ----------------------------------------------------------------

struct Alloc {
  std::string id;
  std::string name;  // <job>.<group>[<index>]
  std::string job_id;
  std::string namespace_ = "default";  // the job's (Nomad's Alloc.Namespace)
  std::string group;
  int index = 0;
  std::string client_status = "pending";  // pending | running | complete | failed | lost
  std::string client_description;
  std::string desired_status = "run";  // run | stop
  int64_t create_time_ns = 0;
  int64_t modify_time_ns = 0;
  // The job as submitted (canonical JSON), so the alloc is self-contained. Shared, never
  // changed: every alloc of a job (and every snapshot of an alloc) points at one copy.
  std::shared_ptr<const nlohmann::json> job;
  // Nomad's AllocDeploymentStatus {Healthy, Timestamp, ...}; null until health is decided.
  nlohmann::json deployment_status;
  std::map<std::string, TaskState> tasks;
  // Ports and networks, chosen before the alloc is first persisted; never change after.
  std::vector<AllocatedNetwork> networks;
  // The cores each task with `resources.cores` was given (Nomad's AllocatedResources
  // .Tasks[t].Cpu.ReservedCores), set when its cgroup is made; kept after the task ends.
  std::map<std::string, std::vector<int>> reserved_cores;
  // Nomad's PreviousAllocation: the alloc of the same job, group and index this one replaced
  // on this node ("" for none).
  std::string previous_alloc;
  // Nomad's AllocNetworkStatus {InterfaceName, Address, DNS} once the alloc's own network
  // (mode bridge or none) is up; null on the host's network.
  nlohmann::json network_status;
  // Nomad's CreateIndex and ModifyIndex: the node's alloc index (runner/alloc_index.hpp) when
  // the alloc's runner was made (or recovered) and at its last change. In the API, not stored:
  // a restarted agent starts a new, higher index. A reader that keeps what it saw last can
  // skip an alloc that has not moved without copying it (the health watcher), and a client
  // can wait for it to move (a blocking query).
  uint64_t create_index = 0;
  uint64_t modify_index = 0;

  bool terminal() const {
    return client_status == "complete" || client_status == "failed" || client_status == "lost";
  }
};

// Events kept per task (Nomad keeps 10).
inline constexpr std::size_t kMaxTaskEvents = 10;

int64_t now_ns();
std::string rfc3339(int64_t ns);  // "" for 0

nlohmann::json to_json(const TaskEvent& e);
nlohmann::json to_json(const TaskState& s);
nlohmann::json to_json(const Alloc& a, bool with_job);
// The alloc without its task states (what the allocs table holds).
nlohmann::json to_row_json(const Alloc& a);
TaskEvent task_event_from_json(const nlohmann::json& j);
TaskState task_state_from_json(const nlohmann::json& j);

}  // namespace drover::state
