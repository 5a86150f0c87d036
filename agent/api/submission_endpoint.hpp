// A job's submitted source on the agent (jobspec/submission.hpp): kept in the state store's
// meta table beside the job when it is registered, dropped when it is purged or registered
// again without one, and served as Nomad's GET /v1/job/:id/submission (404 when none is
// kept). Registered before GET /v1/job/:id, whose pattern would take /submission too.
#pragma once

#include <nlohmann/json.hpp>

#include "state/job_key.hpp"

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_submission_endpoint(httplib::Server& server, const ApiContext& ctx);

// Keeps `submission` as the job's source; a null one forgets what was kept.
void keep_submission(const ApiContext& ctx, const state::JobKey& job,
                     const nlohmann::json& submission);

}  // namespace drover::api
