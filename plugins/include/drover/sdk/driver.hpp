// drover's C++ SDK for driver plugins: a driver is one class deriving from drover::sdk::Driver,
// exported with one DROVER_REGISTER_DRIVER line. Header-only on purpose: an out-of-tree
// author needs these headers, plugin.h and nlohmann/json, and nothing else from drover.
//
// Errors: throw (any exception); the SDK turns it into the error string of the C call, so no
// exception ever crosses the ABI. Threads: every method except set_config may run on several
// threads at once (see plugin.h); guard your own state.
#pragma once

#include <chrono>
#include <array>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "drover/plugin.h"
#include "drover/sdk/task_spec.hpp"

namespace drover::sdk {

// How a task ended. A task killed by signal S has signal = S and exit_code = 128 + S.
// `err` is set when the driver could not learn the real status.
struct ExitStatus {
  int exit_code = 0;
  int signal = 0;
  bool oom_killed = false;
  std::string err;
};

// What the agent knows when it asks a driver to reap (plugin.h, drover_driver_reap_v1).
struct KnownAllocs {
  std::vector<std::string> alloc_ids;  // every alloc the agent knows, live or terminal
  std::string alloc_dir_root;          // every AllocDir of this agent's tasks is inside it
};

// What a command run inside a task (exec_task) printed and how it ended.
struct ExecResult {
  std::string stdout_text;
  std::string stderr_text;
  int exit_code = 0;
};

// An interactive command the agent asks for (plugin.h, drover_driver_exec_stream_v1).
struct ExecStreamRequest {
  std::vector<std::string> argv;  // not empty
  bool tty = false;
  int height = 0, width = 0;  // the terminal's size in cells; 0: unknown
};

// One command started by Driver::exec_stream. `fds` are handed to the agent once, right after
// exec_stream returns (plugin.h says which is which); the object keeps what it needs itself.
// Destroying it kills the command if it still runs and reaps it.
class ExecStream {
 public:
  virtual ~ExecStream() = default;
  std::array<int, 4> fds{-1, -1, -1, -1};  // stdin (or the pty master), stdout, stderr, exit
  // nullopt while it runs after `timeout`.
  virtual std::optional<ExitStatus> wait(std::chrono::milliseconds timeout) = 0;
  virtual void resize(int height, int width) = 0;
  virtual void kill() = 0;
};

// The alloc's network namespace a driver made (plugin.h, drover_driver_create_network_v1).
struct NetworkRequest {
  std::string alloc_id;
  std::string alloc_dir;
  std::string mode;              // "bridge" or "none"
  std::optional<TaskDns> dns;    // "DNS": the group network's dns block, for the namespace's maker
  std::string hostname;          // "Hostname": the alloc's hostname (interpolated); "": none
};
struct NetworkSpec {
  std::string path;                           // names the namespace: /proc/<pid>/ns/net
  std::map<std::string, std::string> labels;  // how the driver finds it again
  bool created = true;                        // false: it was already there
};

class Driver {
 public:
  virtual ~Driver() = default;

  // Called once, before any other call, with the operator's plugin config (may be {}).
  virtual void set_config(const nlohmann::json& /*config*/) {}
  // {"Detected", "Healthy", "HealthDescription", "Attributes": {str: str}}
  virtual nlohmann::json fingerprint() = 0;
  // Every problem with a task's driver Config, each naming its key; empty when fine.
  virtual std::vector<std::string> validate(const nlohmann::json& task_config) = 0;
  // Starts the task (read from the agent's JSON by task_spec_from_json before this is
  // called: a malformed task never reaches the driver); returns its handle.
  virtual nlohmann::json start(const TaskSpec& task) = 0;
  // Blocks up to `timeout`; nullopt when the task is still running then.
  virtual std::optional<ExitStatus> wait(const nlohmann::json& handle,
                                         std::chrono::milliseconds timeout) = 0;
  // Signal to the process group, SIGKILL after `timeout`, return once exited.
  virtual void stop(const nlohmann::json& handle, const std::string& signal,
                    std::chrono::milliseconds timeout) = 0;
  virtual void destroy(const nlohmann::json& handle) = 0;
  virtual nlohmann::json inspect(const nlohmann::json& handle) = 0;
  virtual void signal(const nlohmann::json& handle, const std::string& signal) = 0;
  virtual nlohmann::json stats(const nlohmann::json& /*handle*/) {
    return nlohmann::json::object();
  }
  // Re-attaches to a task after an agent restart; returns the handle to use from now on.
  virtual nlohmann::json recover(const nlohmann::json& handle) = 0;
  // Runs argv inside the running task (plugin.h, drover_driver_exec_v1); killed after
  // `timeout`. Drivers that cannot exec keep this default.
  virtual ExecResult exec_task(const nlohmann::json& /*handle*/,
                               const std::vector<std::string>& /*argv*/,
                               std::chrono::milliseconds /*timeout*/) {
    throw std::runtime_error("this driver does not support exec");
  }
  // Starts argv inside the running task for the agent to stream (plugin.h,
  // drover_driver_exec_stream_v1); returns at once. A driver that can says "Exec": true in
  // its fingerprint's Capabilities; the others keep this default.
  virtual std::unique_ptr<ExecStream> exec_stream(const nlohmann::json& /*handle*/,
                                                  const ExecStreamRequest& /*request*/) {
    throw std::runtime_error("this driver does not support exec");
  }
  // A descriptor that becomes readable once the task may have exited (plugin.h,
  // drover_driver_wait_fd_v1); the agent owns and closes it. -1: none, the agent polls wait.
  virtual int wait_fd(const nlohmann::json& /*handle*/) { return -1; }
  // Removes at once what this agent's tasks left for allocs it does not know (plugin.h,
  // drover_driver_reap_v1). Drivers that leave nothing behind keep this default.
  virtual void reap(const KnownAllocs& /*known*/) {}
  // Makes (or finds) what holds the alloc's network namespace, for a driver whose fingerprint
  // says "MustInitiateNetwork": true (plugin.h, drover_driver_create_network_v1).
  virtual NetworkSpec create_network(const NetworkRequest& /*request*/) {
    throw std::runtime_error("this driver does not make network namespaces");
  }
  // Removes it; `labels` may be empty (find it by alloc id). Nothing there is not an error.
  virtual void destroy_network(const std::string& /*alloc_id*/,
                               const std::map<std::string, std::string>& /*labels*/) {}

  // The SDK's glue hands over the agent's sink here, once, right after set_config.
  void attach_event_sink(drover_event_sink_fn fn, void* ctx) noexcept {
    sink_fn_ = fn;
    sink_ctx_ = ctx;
  }

 protected:
  // Records a task event on the agent's side (plugin.h, drover_driver_set_event_sink_v1),
  // e.g. image pull progress during start. A no-op when the agent gave no sink. Never throws.
  void emit_event(const std::string& alloc_id, const std::string& task_name,
                  const std::string& type, const std::string& message,
                  const std::map<std::string, std::string>& details = {}) const noexcept {
    if (sink_fn_ == nullptr) return;
    try {
      const std::string text =
          nlohmann::json{{"Type", type}, {"Message", message}, {"Details", details}}.dump(
              -1, ' ', false, nlohmann::json::error_handler_t::replace);
      sink_fn_(sink_ctx_, alloc_id.c_str(), task_name.c_str(), text.c_str());
    } catch (...) {  // an event is never worth failing the call that emits it
    }
  }

 private:
  // Set once, before any call that may emit (plugin.h), so read without a lock.
  drover_event_sink_fn sink_fn_ = nullptr;
  void* sink_ctx_ = nullptr;
};

}  // namespace drover::sdk

#include "drover/sdk/detail/driver_glue.hpp"

// The one line a driver needs, at namespace scope in one .cpp file of the plugin:
//   DROVER_REGISTER_DRIVER(RawExecDriver, "raw_exec", "0.1.0")
// Class must be default-constructible; Name and Version must be string literals.
#define DROVER_REGISTER_DRIVER(Class, Name, Version)                               \
  extern "C" DROVER_PLUGIN_EXPORT const drover_plugin* DROVER_PLUGIN_ENTRY(void) { \
    return ::drover::sdk::detail::driver_plugin<Class>(Name, Version);             \
  }                                                                                \
  extern "C" DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_EXEC_V1(             \
      void* self, const char* handle, const char* argv, int64_t timeout_ms,        \
      char** out, char** error) {                                                  \
    return ::drover::sdk::detail::exec_task(self, handle, argv, timeout_ms, out, error); \
  }                                                                                \
  extern "C" DROVER_PLUGIN_EXPORT const drover_exec_stream_v1* DROVER_DRIVER_EXEC_STREAM_V1( \
      void) {                                                                      \
    return &::drover::sdk::detail::kExecStreamV1;                                  \
  }                                                                                \
  extern "C" DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_WAIT_FD_V1(          \
      void* self, const char* handle, int* out_fd, char** error) {                 \
    return ::drover::sdk::detail::wait_fd(self, handle, out_fd, error);            \
  }                                                                                \
  extern "C" DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_SET_EVENT_SINK_V1(   \
      void* self, drover_event_sink_fn sink, void* ctx, char** error) {            \
    return ::drover::sdk::detail::set_event_sink(self, sink, ctx, error);         \
  }                                                                                \
  extern "C" DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_REAP_V1(             \
      void* self, const char* known, char** error) {                               \
    return ::drover::sdk::detail::reap(self, known, error);                        \
  }                                                                                \
  extern "C" DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_CREATE_NETWORK_V1(   \
      void* self, const char* request, char** out, char** error) {                 \
    return ::drover::sdk::detail::create_network(self, request, out, error);       \
  }                                                                                \
  extern "C" DROVER_PLUGIN_EXPORT drover_status DROVER_DRIVER_DESTROY_NETWORK_V1(  \
      void* self, const char* spec, char** error) {                                \
    return ::drover::sdk::detail::destroy_network(self, spec, error);              \
  }
