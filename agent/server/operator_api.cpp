// The scheduler configuration routes; see operator_api.hpp.
#include "server/operator_api.hpp"

#include <httplib.h>

#include "api/json_reply.hpp"
#include "drover/common/json_text.hpp"
#include "server/api_support.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

struct Stored {
  SchedulerConfig config;
  int64_t index = 0;  // the key's mod revision; 0 while none is stored
};

// The configuration in force: the stored key over Nomad's defaults, else server.yaml's.
Result<Stored> read_config(const ServerApiContext& ctx) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.scheduler_config());
  if (!r) return r.error();
  for (const auto& kv : r.value().kvs) {
    if (kv.key != ctx.keys.scheduler_config()) continue;
    auto c = scheduler_config_from_json(json::parse(kv.value, nullptr, false), SchedulerConfig{});
    if (c) return Stored{c.value(), kv.mod_revision};
  }
  return Stored{ctx.scheduler_defaults, 0};
}

void put_config(const ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (body.is_discarded()) return reply_error(res, 400, "body: not JSON");
  auto current = read_config(ctx);
  if (!current) return reply_error(res, 503, current.message());
  auto next = scheduler_config_from_json(body, current.value().config);
  if (!next) return reply_error(res, next.error());
  upstream::EtcdClient etcd(ctx.etcd);
  if (auto s = etcd.put(ctx.keys.scheduler_config(), json_text(to_json(next.value()))); !s)
    return reply_error(res, 503, s.message());
  auto stored = read_config(ctx);
  if (ctx.wake_scheduler) ctx.wake_scheduler();
  reply_json(res, {{"Updated", true}, {"Index", stored ? stored.value().index : 0}});
}

}  // namespace

void register_operator_routes(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/operator/scheduler/configuration",
        [&ctx](const httplib::Request&, httplib::Response& res) {
          auto c = read_config(ctx);
          if (!c) return reply_error(res, 503, c.message());
          json cfg = to_json(c.value().config);
          cfg["CreateIndex"] = c.value().index;
          cfg["ModifyIndex"] = c.value().index;
          reply_json(res, {{"SchedulerConfig", cfg}, {"Index", c.value().index}});
        });
  auto put = [&ctx](const httplib::Request& req, httplib::Response& res) {
    put_config(ctx, req, res);
  };
  post_and_put(s, "/v1/operator/scheduler/configuration", put);
}

}  // namespace drover::server
