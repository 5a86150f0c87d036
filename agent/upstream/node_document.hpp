// The node as Nomad's Node JSON (ID, Name, Datacenter, Status, Attributes, Meta, Drivers,
// NodeResources): what the etcd backend registers. The HTTP API's GET /v1/node builds the same
// shape in api/http_api.cpp; it could call this function instead.
#pragma once

#include <nlohmann/json.hpp>

namespace drover::runner {
struct NodeInfo;
}
namespace drover::plugins {
class PluginRegistry;
}

namespace drover::upstream {

nlohmann::json node_document(const runner::NodeInfo& node, plugins::PluginRegistry& plugins,
                             const std::string& http_addr);

}  // namespace drover::upstream
