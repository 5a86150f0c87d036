// The snapshot route; see snapshot_api.hpp.
#include "server/snapshot_api.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "api/json_reply.hpp"
#include "server/server_api.hpp"
#include "server/snapshot.hpp"

namespace drover::server {

void register_snapshot_route(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/operator/snapshot", [&ctx](const httplib::Request&, httplib::Response& res) {
    upstream::EtcdClient etcd(ctx.etcd);
    auto snap = take_snapshot(etcd, ctx.keys, ctx.name);
    if (!snap) return api::reply_error(res, 503, snap.message());
    std::string file = snapshot_file(snap.value());
    spdlog::info("snapshot: {} keys at etcd revision {} ({} bytes)", snap->keys.size(), snap->revision, file.size());
    res.set_header("X-Nomad-Index", std::to_string(snap->revision));
    res.set_content(std::move(file), "application/gzip");
  });
}

}  // namespace drover::server
