// What the agent runs beside its allocs for health and reporting: the health watcher, the
// upstream (standalone or etcd) with its batched reporter, and the event broker behind
// /v1/event/stream. One object so that run_agent wires them with a few lines: create() before
// the API is built, alloc_changed() as the AllocManager's change hook, fill() for the API
// context, start() once allocs are recovered, stop() before the API stops.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "api/events_endpoint.hpp"
#include "drover/common/result.hpp"
#include "health/health_watcher.hpp"
#include "state/alloc.hpp"
#include "upstream/upstream_config.hpp"
#include "upstream/upstream_service.hpp"

namespace drover::runner {
class AllocManager;
}
namespace drover::plugins {
class PluginRegistry;
}
namespace drover::api {
struct ApiContext;
}

namespace drover::upstream {

class NodeServices {
 public:
  // `upstream_block`: the agent config's `upstream` value (null: standalone). Errors name the
  // config key. `node_json` builds the node's document (core/node_json.hpp) for registration.
  static Result<std::unique_ptr<NodeServices>> create(const nlohmann::json& upstream_block,
                                                      runner::AllocManager& manager,
                                                      std::function<nlohmann::json()> node_json);
  ~NodeServices();

  void alloc_changed(const state::Alloc& alloc);
  void fill(api::ApiContext& ctx);
  void start();
  void stop();

  api::EventBroker& events() { return events_; }
  health::HealthWatcher& health() { return *health_; }
  UpstreamService& upstream() { return *upstream_; }

 private:
  NodeServices() = default;
  void publish_task_events(const state::Alloc& alloc);

  UpstreamConfig config_;
  api::EventBroker events_;
  std::unique_ptr<health::HealthWatcher> health_;
  std::unique_ptr<UpstreamService> upstream_;
  std::mutex mu_;
  // alloc id -> task -> (state, newest event's time): to publish task events only for what
  // changed.
  std::map<std::string, std::map<std::string, std::pair<std::string, int64_t>>> seen_;
  bool stopped_ = false;
};

}  // namespace drover::upstream
