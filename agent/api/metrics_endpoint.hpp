// GET /v1/metrics: Prometheus text format (version 0.0.4), built with prometheus-cpp's core
// library (a Registry of families, written by its TextSerializer). Agent: uptime, allocs by
// client status, tasks running, plugin status, upstream connected, updates pending. Node: cpu,
// memory, disk. Per alloc and task: state, restarts and health, labelled alloc_id/task/job
// (cgroup usage comes with the cgroup stats).
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

}  // namespace drover::api
