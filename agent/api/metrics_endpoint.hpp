// GET /v1/metrics: Prometheus text format (version 0.0.4), written by hand (Debian 12 has no
// prometheus-cpp). Agent: uptime, allocs by client status, tasks running, plugin status,
// upstream connected, updates pending. Node: cpu, memory, disk. Per alloc and task: state,
// restarts and health, labelled alloc_id/task/job (cgroup usage comes with the cgroup stats).
#pragma once

#include <string>

namespace httplib {
class Server;
}

namespace drover::api {
struct ApiContext;

// The whole exposition, as served.
std::string render_metrics(const ApiContext& ctx);
void register_metrics_endpoint(httplib::Server& server, const ApiContext& ctx);

// A label value escaped as the text format asks (\\, \", \n).
std::string escape_label(const std::string& v);

}  // namespace drover::api
