// Nomad's deployment paths on a server: `/v1/deployments`, `/v1/deployment/:id`,
// `/v1/deployment/allocations/:id`, `/v1/job/:id/deployments` and `/v1/job/:id/deployment`
// (the latest), read from the deployment keys the leader writes (server/deployment.hpp), and
// `POST /v1/deployment/promote/:id` for canaries, `/v1/deployment/pause/:id` (pause and resume)
// and `/v1/deployment/fail/:id` (docs/cluster.md, "Operating a deployment"). Registered before the server's
// `/v1/job/:id` route, which would otherwise take these paths.
#pragma once

#include "server/server_api.hpp"

namespace drover::server {

void register_deployment_routes(ServerApiContext& ctx, httplib::Server& s);

}  // namespace drover::server
