// The agent's HTTP API (Nomad's paths and PascalCase JSON, so tools written for Nomad's API
// read it). Only this file's .cpp and logs_endpoint.cpp include httplib.h.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "drover/common/result.hpp"

namespace drover::runner {
class AllocManager;
class NodeResources;
struct NodeInfo;
}  // namespace drover::runner
namespace drover::plugins {
class PluginRegistry;
}

namespace drover::api {

struct ApiContext {
  runner::AllocManager* allocs = nullptr;
  plugins::PluginRegistry* plugins = nullptr;
  runner::NodeResources* resources = nullptr;
  const runner::NodeInfo* node = nullptr;
  std::size_t max_request_bytes = 1 << 20;
  std::string version;
};

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
