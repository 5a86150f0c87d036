#include "core/node_watcher.hpp"

#include <sys/statvfs.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "drover/loader/registry.hpp"
#include "runner/cni_config.hpp"
#include "state/alloc.hpp"
#include "drover/common/json_text.hpp"

namespace drover::agent {

using nlohmann::json;

NodeWatcher::NodeWatcher(std::filesystem::path data_dir, plugins::PluginRegistry& plugins,
                         std::chrono::nanoseconds period, EventSink on_event)
    : data_dir_(std::move(data_dir)), plugins_(plugins), period_(period), on_event_(std::move(on_event)) {}

NodeWatcher::~NodeWatcher() { stop(); }

void NodeWatcher::start() {
  refresh();
  loop_.start(period_, [this] { refresh(); });
}

void NodeWatcher::stop() { loop_.stop(); }

void NodeWatcher::add_event_locked(const std::string& subsystem, const std::string& message,
                                   json details) {
  json e = {{"Message", message},
            {"Subsystem", subsystem},
            {"Details", std::move(details)},
            {"Timestamp", state::rfc3339(state::now_ns())}};
  events_.push_back(e);
  if (events_.size() > 20) events_.erase(events_.begin());
  spdlog::info("node event ({}): {}", subsystem, message);
  if (on_event_) on_event_(e);
}

void NodeWatcher::refresh() {
  // Fingerprints are taken outside the lock: a driver may take its time (dockerd).
  json fresh = json::object();
  for (const auto& name : plugins_.driver_names()) {
    auto fp = plugins_.driver(name)->fingerprint();
    fp["UpdateTime"] = state::rfc3339(state::now_ns());
    fresh[name] = fp;
  }
  std::map<std::string, std::string> dynamic;
  struct statvfs v {};
  if (statvfs(data_dir_.c_str(), &v) == 0)
    dynamic["unique.storage.bytesfree"] = std::to_string(uint64_t(v.f_bavail) * v.f_frsize);
  for (const auto& [name, fp] : fresh.items())
    if (fp.value("Healthy", false)) {
      dynamic["driver." + name] = "true";
      auto attrs = fp.value("Attributes", json::object());  // named: items() of a temporary dangles
      for (const auto& [k, val] : attrs.items())
        dynamic[k] = val.is_string() ? val.get<std::string>() : json_text(val);
    }
  // The CNI networks a group may name (mode "cni/<name>"): an operator may drop a config in
  // while the agent runs, and the node then offers it.
  runner::CniScan cni;
  if (!cni_config_dir_.empty()) cni = runner::scan_cni_configs(cni_config_dir_);
  std::vector<std::string> cni_names;
  for (const auto& n : cni.networks) cni_names.push_back(n.name);
  std::sort(cni_names.begin(), cni_names.end());
  std::lock_guard lock(mu_);
  bool first = drivers_.empty();
  if (cni.problems != cni_problems_)
    for (const auto& p : cni.problems)
      spdlog::warn("cni_config_dir {}: {}", cni_config_dir_.string(), p);
  if (!first && cni_names != cni_networks_) {
    std::string names;
    for (const auto& n : cni_names) names += (names.empty() ? "" : ", ") + n;
    add_event_locked("CNI", "CNI networks now: " + (names.empty() ? "none" : names),
                     {{"networks", cni_names}});
  }
  cni_networks_ = std::move(cni_names);
  cni_problems_ = std::move(cni.problems);
  for (const auto& [name, fp] : fresh.items()) {
    bool healthy = fp.value("Healthy", false);
    bool was = drivers_.contains(name) && drivers_[name].value("Healthy", false);
    if (!first && healthy != was)
      add_event_locked("Driver",
                       "Driver " + name + (healthy ? " became healthy" : " became unhealthy: " +
                                                                             fp.value("HealthDescription", "")),
                       {{"driver", name}});
  }
  if (first) add_event_locked("Cluster", "Node registered", json::object());
  drivers_ = std::move(fresh);
  dynamic_ = std::move(dynamic);
  ++generation_;
}

std::map<std::string, std::string> NodeWatcher::dynamic_attributes() const {
  std::lock_guard lock(mu_);
  return dynamic_;
}

json NodeWatcher::drivers() const {
  std::lock_guard lock(mu_);
  return drivers_;
}

std::vector<std::string> NodeWatcher::cni_networks() const {
  std::lock_guard lock(mu_);
  return cni_networks_;
}

json NodeWatcher::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

}  // namespace drover::agent
