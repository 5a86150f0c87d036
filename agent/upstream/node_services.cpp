// Wiring of health, upstream and events for run_agent; see node_services.hpp.
#include "upstream/node_services.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "api/http_api.hpp"
#include "catalog/catalog.hpp"
#include "drover/loader/registry.hpp"
#include "runner/alloc_manager.hpp"
#include "upstream/etcd_upstream.hpp"
#include "upstream/standalone_upstream.hpp"

namespace drover::upstream {

using nlohmann::json;

Result<std::unique_ptr<NodeServices>> NodeServices::create(const json& block,
                                                           runner::AllocManager& manager,
                                                           std::function<json()> node_json) {
  std::unique_ptr<NodeServices> s(new NodeServices());
  if (!block.is_null()) {
    std::string errors;
    parse_upstream_config(block, s->config_, errors);
    if (!errors.empty()) return make_error("config:" + errors);
  }
  const auto& node = manager.ctx().node;
  std::unique_ptr<Upstream> backend;
  UpstreamService::Options opts;
  opts.data_dir = manager.ctx().data_dir;
  if (s->config_.backend == "etcd") {
    auto etcd = std::make_unique<EtcdUpstream>(s->config_.etcd, node.id);
    // The node's services live under its lease (catalog/etcd_catalog.hpp).
    if (auto* cat = manager.ctx().catalog)
      etcd->set_on_registered([cat](int64_t lease) { cat->node_registered(lease); });
    backend = std::move(etcd);
    opts.revision_scope = s->config_.etcd.prefix + "/allocs/" + node.id;
    // Three heartbeats per TTL: one lost request does not lose the node.
    opts.heartbeat_interval =
        std::chrono::duration_cast<std::chrono::milliseconds>(s->config_.etcd.heartbeat_ttl) / 3;
  } else {
    backend = std::make_unique<StandaloneUpstream>();
    opts.heartbeat_interval = std::chrono::seconds(30);
  }
  auto* nodes = &manager.ctx().node;
  s->upstream_ = std::make_unique<UpstreamService>(std::move(backend), manager, std::move(node_json), opts);
  s->health_ = std::make_unique<health::HealthWatcher>(manager);

  auto* self = s.get();
  auto* allocs = &manager;
  s->health_->set_on_verdict([self, allocs](const std::string& id, const json& status) {
    auto a = allocs->alloc(id);
    self->events_.publish("health",
                          status.value("Healthy", false) ? "AllocHealthy" : "AllocUnhealthy", id,
                          json{{"AllocID", id}, {"DeploymentStatus", status}},
                          a ? a->namespace_ : std::string("default"));
  });
  s->upstream_->set_on_connection([self, nodes](bool connected) {
    self->events_.publish("node", connected ? "NodeConnected" : "NodeDisconnected", nodes->id,
                          {{"NodeID", nodes->id}, {"Upstream", self->config_.backend}});
  });
  return s;
}

NodeServices::~NodeServices() { stop(); }

void NodeServices::fill(api::ApiContext& ctx) {
  ctx.events = &events_;
  ctx.health = health_.get();
  auto* up = upstream_.get();
  ctx.upstream_state = [up] { return std::make_pair(up->connected(), up->pending()); };
}

void NodeServices::alloc_changed(const state::Alloc& a) {
  // Serialised only if someone reads the stream (api/events_endpoint.hpp, EventPayload).
  events_.publish(
      "alloc", "AllocationUpdated", a.id,
      [snap = std::make_shared<const state::Alloc>(a)] {
        return state::to_json(*snap, /*with_job=*/false);
      },
      a.namespace_);
  publish_task_events(a);
  if (health_) health_->alloc_changed(a);
  if (upstream_) upstream_->alloc_changed(a);
}

void NodeServices::publish_task_events(const state::Alloc& a) {
  std::lock_guard lock(mu_);
  auto& seen = seen_[a.id];
  for (const auto& [name, ts] : a.tasks) {
    auto now = std::make_pair(std::string(state::to_string(ts.state)), ts.events.empty() ? int64_t{0} : ts.events.back().time_ns);
    auto it = seen.find(name);
    if (it != seen.end() && it->second == now) continue;
    std::string type = ts.events.empty() ? "TaskStateChanged" : ts.events.back().type;
    std::optional<state::TaskEvent> last;
    if (!ts.events.empty()) last = ts.events.back();
    events_.publish(
        "task", type, a.id + "/" + name,
        [alloc = a.id, name, st = ts.state, failed = ts.failed, restarts = ts.restarts,
         last = std::move(last)] {
          return json{{"AllocID", alloc},
                      {"Task", name},
                      {"State", state::to_string(st)},
                      {"Failed", failed},
                      {"Restarts", restarts},
                      {"Event", last ? state::to_json(*last) : json()}};
        },
        a.namespace_);
    seen[name] = now;
  }
  if (a.terminal()) seen_.erase(a.id);
}

void NodeServices::start() {
  // The node as the API shows it is up: say so first on the stream.
  events_.publish("node", "NodeRegistration", "", {{"Upstream", config_.backend}});
  health_->start();
  upstream_->start();
}

void NodeServices::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  events_.close();
  if (health_) health_->stop();
  if (upstream_) upstream_->stop();
}

}  // namespace drover::upstream
