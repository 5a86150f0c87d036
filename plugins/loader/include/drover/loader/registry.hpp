// The agent's view of its plugins: PluginRegistry scans the plugin folder and keeps a status
// per .so (loaded, or refused and why); DriverPlugin is a loaded driver, called through the
// C ABI of drover/plugin.h with JSON in and out and errors as values.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"
#include "drover/loader/exec_session.hpp"
#include "drover/plugin.h"

struct drover_plugin;

namespace drover::plugins {

class SharedLibrary;
class TaskEventSink;

// Receives the task events drivers emit (plugin.h, drover_driver_set_event_sink_v1): the
// alloc id and task name the driver named, and the event, already checked and shaped as
// {"Type": non-empty str, "Message": str, "Details": {str: str}}. Called from the plugin's
// threads, several at once; it must not call back into that plugin.
using TaskEventHandler = std::function<void(
    const std::string& alloc_id, const std::string& task_name, const nlohmann::json& event)>;

struct PluginInfo {
  std::string name, type /*"driver"|"device"|""*/, version, path;
  uint32_t abi_version = 0;
  std::string status;  // "loaded" | "refused"
  std::string reason;  // why refused; empty when loaded
};

// How a task ended. Killed by signal S: signal = S, exit_code = 128 + S. When the driver could
// not learn the status (a recovered task that was not its child) `err` says so and
// exit_code is -1.
struct ExitResult {
  int exit_code = 0;
  int signal = 0;
  bool oom_killed = false;
  std::string err;
};

class DriverPlugin {  // thread-safe: the agent calls it from many threads
 public:
  DriverPlugin(PluginInfo info, const drover_plugin* plugin, void* instance);
  ~DriverPlugin();  // calls the plugin's fini; the registry dlcloses afterwards
  DriverPlugin(const DriverPlugin&) = delete;
  DriverPlugin& operator=(const DriverPlugin&) = delete;

  const std::string& name() const;
  const PluginInfo& info() const;
  // {"Detected": bool, "Healthy": bool, "HealthDescription": str, "Attributes": {str: str}}
  // A failing or malformed fingerprint reads as undetected, with the reason.
  nlohmann::json fingerprint();
  // The driver's Capabilities from its last fingerprint (plugin.h), fingerprinting once if
  // there was none yet: the agent decides by these, never by a driver's name.
  nlohmann::json capabilities();
  // Whether the driver's tasks see their dirs at /alloc, /local and /secrets (FSIsolation
  // "chroot" or "image"): their paths, and script checks run inside them.
  bool isolates_filesystem();
  // The user the driver runs a task as when the job names none (DefaultUser); empty: the
  // driver's own choice (the agent's user, or the image's).
  std::string default_user();
  // Checks a task's driver Config before anything runs; returns every problem, each naming
  // the config key (e.g. "config.command: required").
  std::vector<std::string> validate(const nlohmann::json& task_config);
  drover::Result<nlohmann::json> start(const nlohmann::json& task);  // returns the handle
  // Blocks up to `timeout`; nullopt when the task is still running then.
  drover::Result<std::optional<ExitResult>> wait(const nlohmann::json& handle,
                                                 std::chrono::milliseconds timeout);
  drover::Status stop(const nlohmann::json& handle, const std::string& signal,
                      std::chrono::milliseconds timeout);
  drover::Status destroy(const nlohmann::json& handle);
  drover::Result<nlohmann::json> inspect(const nlohmann::json& handle);
  drover::Status signal(const nlohmann::json& handle, const std::string& signal);
  drover::Result<nlohmann::json> stats(const nlohmann::json& handle);
  // Returns the handle to use from now on.
  drover::Result<nlohmann::json> recover(const nlohmann::json& handle);
  // Runs argv inside the running task: {"Stdout": str, "Stderr": str, "ExitCode": int}.
  // An error when the plugin does not export drover_driver_exec_v1 (plugin.h) or refuses.
  drover::Result<nlohmann::json> exec_task(const nlohmann::json& handle,
                                           const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout);
  bool supports_exec() const { return exec_ != nullptr; }
  // The registry passes the optional symbol it resolved (NULL when absent), at load.
  void set_exec(drover_driver_exec_v1_fn fn) { exec_ = fn; }
  // Starts a command inside the running task for the caller to stream (plugin.h,
  // drover_driver_exec_stream_v1). The session must end before this plugin is unloaded.
  drover::Result<std::unique_ptr<ExecSession>> exec_stream(const nlohmann::json& handle,
                                                           const ExecRequest& request);
  // The plugin exports the extension and its fingerprint's Capabilities say "Exec": true.
  bool supports_exec_stream();
  void set_exec_stream(const drover_exec_stream_v1* calls) { exec_stream_ = calls; }
  // A descriptor that becomes readable once the task may have exited (plugin.h,
  // drover_driver_wait_fd_v1); the caller closes it. -1 when the driver has none for it.
  drover::Result<int> wait_fd(const nlohmann::json& handle);
  bool supports_wait_fd() const { return wait_fd_ != nullptr; }
  void set_wait_fd(drover_driver_wait_fd_v1_fn fn) { wait_fd_ = fn; }
  // Removes at once what this agent's tasks (their alloc dirs inside `alloc_dir_root`) left
  // for allocs not in `known_alloc_ids` (plugin.h, drover_driver_reap_v1). An error when the
  // plugin does not export it or fails.
  drover::Status reap(const std::vector<std::string>& known_alloc_ids,
                      const std::string& alloc_dir_root);
  bool supports_reap() const { return reap_ != nullptr; }
  void set_reap(drover_driver_reap_v1_fn fn) { reap_ = fn; }
  // The alloc's network namespace made by the driver (plugin.h,
  // drover_driver_create_network_v1): {"Path": str, "Labels": {str: str}, "Created": bool},
  // every key present. An error when the plugin does not export both calls, or fails. `dns`:
  // the group network's dns block as Nomad's DNSConfig JSON, or null; `hostname`: the alloc's
  // hostname, or "".
  drover::Result<nlohmann::json> create_network(const std::string& alloc_id,
                                                const std::string& alloc_dir,
                                                const std::string& mode,
                                                const nlohmann::json& dns = nullptr,
                                                const std::string& hostname = "");
  // Removes what create_network made; `labels` may be empty.
  drover::Status destroy_network(const std::string& alloc_id, const nlohmann::json& labels);
  // Whether the driver makes the namespaces its tasks join: its Capabilities say
  // "MustInitiateNetwork": true and it exports both network calls.
  bool initiates_network();
  void set_create_network(drover_driver_create_network_v1_fn fn) { create_network_ = fn; }
  void set_destroy_network(drover_driver_destroy_network_v1_fn fn) { destroy_network_ = fn; }
  // Gives the plugin the agent's event sink through its drover_driver_set_event_sink_v1;
  // the registry calls it once at load, right after set_config, when the plugin exports it.
  drover::Status set_event_sink(drover_driver_set_event_sink_v1_fn fn, drover_event_sink_fn sink,
                                void* ctx);

  // Passes the operator's config to the plugin; the registry calls it once, at load.
  drover::Status set_config(const nlohmann::json& config);

 private:
  PluginInfo info_;
  const drover_plugin* plugin_;
  void* instance_;
  drover_driver_exec_v1_fn exec_ = nullptr;
  const drover_exec_stream_v1* exec_stream_ = nullptr;
  drover_driver_wait_fd_v1_fn wait_fd_ = nullptr;
  drover_driver_reap_v1_fn reap_ = nullptr;
  drover_driver_create_network_v1_fn create_network_ = nullptr;
  drover_driver_destroy_network_v1_fn destroy_network_ = nullptr;
  std::mutex caps_mu_;
  std::optional<nlohmann::json> capabilities_;  // from the last fingerprint
};

// A loaded device plugin (drover/plugin.h, drover_device_vtable). Thread-safe: it keeps no
// state of its own and the plugin guards its own; every call returns promptly.
class DevicePlugin {
 public:
  DevicePlugin(PluginInfo info, const drover_plugin* plugin, void* instance);
  ~DevicePlugin();  // calls the plugin's fini; the registry dlcloses afterwards
  DevicePlugin(const DevicePlugin&) = delete;
  DevicePlugin& operator=(const DevicePlugin&) = delete;

  const std::string& name() const;
  const PluginInfo& info() const;
  // {"Detected": bool, "HealthDescription": str, "Devices": [{"Vendor", "Type", "Name",
  //  "Attributes": {k: {"Value", "Unit"}}, "Instances": [{"ID", "Healthy",
  //  "HealthDescription", "Attributes"}]}]}. Every key is present; a failing or malformed
  // fingerprint reads as undetected with no devices and the reason.
  nlohmann::json fingerprint();
  // What a task needs for these instance IDs: {"Env": {str: str}, "Devices": [{"HostPath",
  // "ContainerPath", "Permissions"}], "Mounts": [{"HostPath", "ContainerPath", "ReadOnly"}]},
  // every key present. An error when an ID is unknown (or the list is empty).
  drover::Result<nlohmann::json> reserve(const std::vector<std::string>& instance_ids);
  // {"Timestamp": unix ns, "Instances": {ID: {"Vendor", "Type", "Name", "Stats": {name:
  //  {"Value", "Unit"}}}}}
  drover::Result<nlohmann::json> stats();

  // Passes the operator's config to the plugin; the registry calls it once, at load.
  drover::Status set_config(const nlohmann::json& config);

 private:
  PluginInfo info_;
  const drover_plugin* plugin_;
  void* instance_;
};

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();  // dlclose on destruction
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Scans `dir` for *.so (non-recursive, sorted by name), dlopens each (RTLD_NOW|RTLD_LOCAL),
  // checks the handshake. configs: plugin name -> config object, already containing "enabled"
  // (bool) when the operator set it; passed to set_config. A .so that is not a plugin, is
  // corrupt, misses the symbol, has another ABI version (message names both versions), has a
  // bad name (drover::plain_name_problem) or duplicates an already loaded name is refused and
  // recorded; nothing throws, the agent keeps running. Logs with spdlog.
  void load_dir(const std::filesystem::path& dir, const nlohmann::json& configs);
  std::vector<PluginInfo> plugins() const;            // every .so seen, loaded or refused
  DriverPlugin* driver(std::string_view name) const;  // nullptr unless a loaded driver
  std::vector<std::string> driver_names() const;      // loaded drivers, sorted
  // nullptr unless a loaded device plugin that has device calls (a device plugin built with
  // a NULL `device` vtable is listed by plugins() but offers nothing).
  DevicePlugin* device(std::string_view name) const;
  std::vector<std::string> device_names() const;  // callable device plugins, sorted
  // Where drivers' task events go from now on; nullptr drops them (the default). Any time,
  // any thread: once it returns, the previous handler is not running and is never called
  // again, so an agent clears it before destroying what the handler uses.
  void set_task_event_handler(TaskEventHandler handler);

 private:
  // Loads one file; returns what to record for it.
  PluginInfo load_file(const std::filesystem::path& path, const nlohmann::json& configs);
  // The device-plugin half of load_file, once the handshake and name have passed.
  PluginInfo load_device(PluginInfo info, const drover_plugin* plugin,
                         std::unique_ptr<SharedLibrary> lib, const nlohmann::json& configs);

  struct Loaded {
    std::unique_ptr<SharedLibrary> library;
    std::unique_ptr<DriverPlugin> driver;  // null for device plugins
    std::unique_ptr<DevicePlugin> device;  // null for drivers and call-less device plugins
    std::string path;                      // where it was loaded from, for refusals
  };

  mutable std::mutex mu_;
  std::vector<PluginInfo> infos_;
  // Declared before `loaded_`, so it outlives every plugin that may still call it until fini.
  std::unique_ptr<TaskEventSink> events_;
  // Declaration order matters: `loaded_` is destroyed first, so every plugin's fini runs
  // before its library is dlclosed (see ~PluginRegistry).
  std::map<std::string, Loaded, std::less<>> loaded_;
};

}  // namespace drover::plugins
