// Nomad's scaling API on the agent (docs/jobspec.md, "scaling"): POST|PUT /v1/job/:id/scale
// (a group's count, held to its scaling bounds), GET /v1/job/:id/scale (JobScaleStatus),
// GET /v1/scaling/policies and /v1/scaling/policy/:id. Registered before GET /v1/job/:id,
// whose pattern would take /scale too.
#pragma once

namespace httplib {
class Server;
}

namespace drover::state {
struct JobKey;
}

namespace drover::api {
struct ApiContext;

void register_scaling_endpoints(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
