// The node as Nomad's Node JSON (ID, Name, Datacenter, HTTPAddr, Status, Attributes, Meta,
// Drivers, NodeResources with devices, Events): one builder for GET /v1/node and for the node
// the etcd backend registers, so that both say the same thing (docs/nomad-compat.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace drover::runner {
struct NodeInfo;
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

}  // namespace drover::agent
