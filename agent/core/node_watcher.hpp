// Keeps the node's fingerprint fresh: every fingerprint_period it re-reads what changes (free
// storage, the drivers' health, the CNI networks configured) and records each change as a node event (Nomad's
// Node.Events), so GET /v1/node, the event stream and the upstream see the node as it is now.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/common/periodic.hpp"

namespace drover::plugins {
class PluginRegistry;
}

namespace drover::agent {

class NodeWatcher {
 public:
  using EventSink = std::function<void(const nlohmann::json& event)>;

  NodeWatcher(std::filesystem::path data_dir, plugins::PluginRegistry& plugins,
              std::chrono::nanoseconds period, EventSink on_event);
  ~NodeWatcher();

  // Where the CNI network configs are (cni_config_dir); set before start. Unset: none read.
  void set_cni_config_dir(std::filesystem::path dir) { cni_config_dir_ = std::move(dir); }
  // Takes the first fingerprint (synchronously), then refreshes every period.
  void start();
  void stop();
  void refresh();

  // Attributes that change while the agent runs (unique.storage.bytesfree, driver.*).
  std::map<std::string, std::string> dynamic_attributes() const;
  // Each driver's last fingerprint {Detected, Healthy, HealthDescription, Attributes, UpdateTime}.
  nlohmann::json drivers() const;
  // Counts the refreshes: what drivers() and dynamic_attributes() return changes only with it.
  uint64_t generation() const { return generation_.load(); }
  // The most recent node events, oldest first (at most 20).
  nlohmann::json events() const;
  // The names of the CNI networks in cni_config_dir at the last refresh, sorted.
  std::vector<std::string> cni_networks() const;

 private:
  void add_event_locked(const std::string& subsystem, const std::string& message,
                        nlohmann::json details);

  std::filesystem::path data_dir_;
  plugins::PluginRegistry& plugins_;
  std::chrono::nanoseconds period_;
  EventSink on_event_;
  mutable std::mutex mu_;
  std::atomic<uint64_t> generation_{0};
  std::map<std::string, std::string> dynamic_;
  std::filesystem::path cni_config_dir_;
  std::vector<std::string> cni_networks_;
  std::vector<std::string> cni_problems_;
  nlohmann::json drivers_ = nlohmann::json::object();
  nlohmann::json events_ = nlohmann::json::array();
  Periodic loop_;  // last: stopped before the rest goes
};

}  // namespace drover::agent
