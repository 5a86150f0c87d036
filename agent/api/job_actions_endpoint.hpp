// GET /v1/job/:id/actions: Nomad's list of a job's actions, each with its task and group
// (`[{Name, Command, Args, TaskName, TaskGroupName}]`), from the job's current version
// (docs/jobspec.md, "actions"). Running one is the exec session's (api/exec_endpoint.hpp).
// Registered before GET /v1/job/:id, whose pattern would take /actions too.
#pragma once

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

// The actions of a job in canonical JSON (jobspec/job.hpp), in Nomad's JobAction shape; an
// empty array when it has none. A server answers with it from its own job records.
nlohmann::json job_actions(const nlohmann::json& job);

void register_job_actions_endpoint(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
