// GET /v1/agent/monitor: this process's own log as it is written (core/log_monitor.hpp), as
// Nomad's: ?log_level= trace, debug, info (the default), warn or error; ?log_json=true for
// hclog's JSON lines; ?plain=true for the lines as text, else Nomad's stream frames,
// {"Data": base64} per chunk and {} as a heartbeat every 10 s while quiet. The agent and the
// server both answer it; a server passes ?node_id= on to that node's agent
// (server/node_forward.hpp). docs/nomad-compat.md, "Agent monitor".
#pragma once

#include <string>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace drover::agent {
class LogMonitor;
}

namespace drover::api {

// Why the request's log_level, log_json or plain is wrong, naming it; "" when they are fine.
std::string monitor_options_refusal(const httplib::Request& req);
// Answers one monitor request from `monitor` (none: 501).
void serve_monitor(agent::LogMonitor* monitor, const httplib::Request& req,
                   httplib::Response& res);
// The agent's route: ?node_id= must name this node (`node_id`) or be left out.
void register_monitor_endpoint(httplib::Server& server, agent::LogMonitor* monitor,
                               std::string node_id);

}  // namespace drover::api
