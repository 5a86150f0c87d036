// GET /v1/client/allocation/:id/checks: the alloc's check results, Nomad's shape (check id ->
// {ID, Check, Group, Task, Service, Mode, Status, StatusCode, Output, Timestamp}).
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_checks_endpoint(httplib::Server& server, const ApiContext& ctx);

}  // namespace drover::api
