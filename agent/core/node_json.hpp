// The node as Nomad's Node JSON (ID, Name, Datacenter, HTTPAddr, Status, Attributes, Meta,
// Drivers, NodeResources with devices, Events): one builder for GET /v1/node and for the node
// the etcd backend registers, so that both say the same thing (docs/nomad-compat.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/constraints.hpp"

namespace drover::runner {
class NodeResources;
}  // namespace drover::runner
namespace drover::plugins {
class PluginRegistry;
}

namespace drover::agent {

class NodeWatcher;

// Driver health, dynamic attributes and node events come from `watcher`'s last fingerprint;
// without one (tests, a start not yet done), each driver is fingerprinted now. `resources`
// (nullable) gives the usable capacity and the devices; `http_addr` is left out when empty.
nlohmann::json node_json(const runner::NodeInfo& node, plugins::PluginRegistry& plugins,
                         const runner::NodeResources* resources, const NodeWatcher* watcher,
                         const std::string& http_addr);

// The node a job's constraints are judged against at admission (node_json read back as
// runner::NodeInfo), made again only when `watcher` has refreshed or the node's metadata
// changed since: building the node's
// JSON for every submit was a quarter of admitting a job (bench/results/2026-12-04-start-path-cpu.md).
// Without a watcher yet it is made at every call.
class AdmissionNode {
 public:
  AdmissionNode(const runner::NodeInfo& node, plugins::PluginRegistry& plugins,
                const std::atomic<NodeWatcher*>& watcher)
      : node_(node), plugins_(plugins), watcher_(watcher) {}
  runner::NodeInfo operator()();

 private:
  const runner::NodeInfo& node_;
  plugins::PluginRegistry& plugins_;
  const std::atomic<NodeWatcher*>& watcher_;
  std::mutex mu_;
  const NodeWatcher* made_by_ = nullptr;
  uint64_t made_at_ = 0;       // the watcher's generation it was made at
  uint64_t made_meta_at_ = 0;  // and the node metadata's (`node meta apply`)
  uint64_t made_volumes_at_ = 0;  // and the dynamic host volumes' 
  runner::NodeInfo made_;
};

}  // namespace drover::agent
