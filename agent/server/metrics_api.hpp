// GET /v1/metrics on a server: Prometheus text as the agent's (api/metrics_text.hpp). Whether
// this server leads; jobs by status, allocs by client status, nodes by eligibility and
// evaluations by status, as etcd holds them now; and the leader's loop measured here (passes,
// plan commits, their seconds). Any server answers; the loop's measures are its own.
#pragma once

namespace httplib {
class Server;
}

namespace drover::server {

struct ServerApiContext;

void register_metrics_route(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
