// Nomad's dynamic host volume API on the agent (docs/volumes.md): PUT /v1/volume/host/create
// and /v1/volume/host/register ({"Volume": {...}} -> {"Volume": {...}, "Warnings": ""}),
// GET /v1/volumes?type=host, GET and DELETE /v1/volume/host/:id. A volume a live alloc
// mounts is not deleted.
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_host_volumes_endpoints(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
