// GET /v1/client/allocation/:id/exec?task=T&command=["/bin/sh"]&tty=true with
// `Upgrade: websocket`: Nomad's interactive `alloc exec` (docs/nomad-compat.md, "alloc exec").
// The request is checked as HTTP (a bad one gets a 4xx, not an upgrade), the command started
// through the driver's streaming exec (plugin.h, drover_driver_exec_stream_v1), and the
// session then relays Nomad's JSON messages (api/exec_frames.hpp) over RFC 6455 frames
// (api/websocket.hpp) on the connection the handler takes over (api/http_server.hpp).
#pragma once

#include <string_view>

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

void register_exec_endpoint(httplib::Server& server, const ApiContext& ctx);

// GET /v1/job/:job/action?action=A&allocID=ID&task=T&tty=..., `Upgrade: websocket`: Nomad's
// `job action`, the same session with the command and args of the task's named action in the
// job version the alloc runs (docs/jobspec.md, "actions"). Registered before /v1/job/:id, which
// would take the path.
void register_action_endpoint(httplib::Server& server, const ApiContext& ctx);

// Whether a request is this endpoint's websocket with its token in the first message
// (ws_handshake=true, Nomad's web UI: a browser cannot set headers on a websocket) and none in
// a header: the pre-routing token check leaves it to the endpoint, which checks that token
// against the same policy before anything starts.
bool exec_token_in_first_message(std::string_view method, std::string_view path,
                                 std::string_view upgrade, std::string_view ws_handshake,
                                 std::string_view header_token);

}  // namespace drover::api
