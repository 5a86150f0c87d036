// GET /v1/client/allocation/:id/stats (per task and per alloc, from the stats collector's
// latest sample of each task's cgroup) and
// GET /v1/client/stats (the host: CPU per core, memory, disk of the data dir, uptime, each
// device instance's stats), in Nomad's shapes.
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_stats_endpoints(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
