// GET /v1/client/fs/logs/:alloc_id: a task's stdout or stderr, whole, from an offset, or
// followed while the task runs.
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_logs_endpoint(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
