// The agent's HTTP API (Nomad's paths and PascalCase JSON, so tools written for Nomad's API
// read it). Only this file's .cpp and logs_endpoint.cpp include httplib.h.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "api/request_authz.hpp"
#include "api/tls_config.hpp"
#include "drover/common/result.hpp"

namespace drover::runner {
class AllocManager;
class PeriodicLauncher;
class NodeResources;
struct NodeInfo;
class NodeMeta;
class DynamicHostVolumes;
}  // namespace drover::runner
namespace drover::plugins {
class PluginRegistry;
}
namespace drover::health {
class HealthWatcher;
}

namespace drover::agent {
class NodeWatcher;
class LogMonitor;
}
namespace drover::catalog {
class Catalog;
}
namespace drover::vars {
class VariableStore;
class WorkloadIdentity;
}  // namespace drover::vars

namespace drover::api {

class EventBroker;
class TokenStore;

struct ApiContext {
  runner::AllocManager* allocs = nullptr;
  runner::PeriodicLauncher* periodic = nullptr;  // periodic force and next launch times
  plugins::PluginRegistry* plugins = nullptr;
  runner::NodeResources* resources = nullptr;
  agent::NodeWatcher* node_watcher = nullptr;  // fresh driver health, node events
  const runner::NodeInfo* node = nullptr;
  // The node as GET /v1/node shows it now (drivers' attributes, node meta applied since): what
  // a volume's constraints are judged against. Unset (tests): `node`.
  std::function<runner::NodeInfo()> node_now;
  // The node's metadata, which PUT /v1/client/metadata changes (api/node_meta_endpoint.hpp),
  // and what to do after a change (the merged meta).
  runner::NodeMeta* node_meta = nullptr;
  std::function<void(const nlohmann::json&)> node_meta_changed;
  // The dynamic host volumes (api/host_volumes_endpoint.hpp), and what to do after a change.
  runner::DynamicHostVolumes* host_volumes = nullptr;
  std::function<void()> host_volumes_changed;
  std::string http_addr;  // the address the API serves on, as the node's HTTPAddr
  std::size_t max_request_bytes = 1 << 20;
  std::string version;
  // Health, events, upstream and metrics (upstream/node_services.hpp fills these).
  EventBroker* events = nullptr;
  health::HealthWatcher* health = nullptr;
  std::function<std::pair<bool, std::size_t>()> upstream_state;  // connected, updates pending
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Hardening (api/acl.hpp, api/limits.hpp): tokens when set, TLS, per-client connections.
  TokenStore* acl = nullptr;
  TlsSettings tls;
  std::size_t max_conns_per_client = 12;
  // The names a Host header may carry besides IP addresses (api/host_check.hpp); empty: no
  // Host check (tests that build an ApiContext by hand).
  std::vector<std::string> allowed_hosts;
  // The service catalog behind /v1/services and /v1/service/ (api/services_endpoint.hpp).
  catalog::Catalog* catalog = nullptr;
  // Nomad Variables and the tasks' workload identities (api/vars_endpoint.hpp).
  vars::VariableStore* vars = nullptr;
  const vars::WorkloadIdentity* identity = nullptr;
  // The agent's own log for GET /v1/agent/monitor (core/log_monitor.hpp); none: 501.
  agent::LogMonitor* log_monitor = nullptr;
};

// The namespace of an alloc of this agent, by id or unique prefix: what a token's ACL
// policies are judged in for an alloc's endpoints (api/request_authz.hpp).
AllocNamespaceLookup alloc_namespace_lookup(const ApiContext& ctx);

class HttpApi {
 public:
  explicit HttpApi(ApiContext ctx);
  ~HttpApi();
  // Binds the listening socket; a port in use is an error naming address and port.
  Status bind(const std::string& addr, int port);
  // Serves until stop(); blocks.
  void serve();
  void stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace drover::api
