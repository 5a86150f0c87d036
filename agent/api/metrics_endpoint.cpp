// Prometheus metrics of the agent, the node and its allocs; see metrics_endpoint.hpp.
#include "api/metrics_endpoint.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/meminfo.hpp"
#include "api/metrics_text.hpp"
#include "drover/loader/registry.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/step_timings.hpp"

namespace drover::api {

std::string render_metrics(const ApiContext& ctx) {
  Metrics w;
  auto& m = *ctx.allocs;
  auto allocs = m.allocs();

  w.set(w.gauge("drover_agent_uptime_seconds", "Seconds since the agent started."), {},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count());

  std::map<std::string, int> by_status = {
      {"pending", 0}, {"running", 0}, {"complete", 0}, {"failed", 0}, {"lost", 0}};
  int tasks_running = 0;
  for (const auto& a : allocs) {
    ++by_status[a.client_status];
    for (const auto& [name, t] : a.tasks) tasks_running += t.state == state::TaskPhase::Running;
  }
  auto& allocs_by_status = w.gauge("drover_allocs", "Allocs on this node by client status.");
  for (const auto& [s, n] : by_status) w.set(allocs_by_status, {{"client_status", s}}, n);
  w.set(w.gauge("drover_tasks_running", "Tasks running on this node."), {}, tasks_running);

  if (ctx.plugins) {
    auto& loaded = w.gauge("drover_plugin_loaded", "1 for a loaded plugin, 0 for a refused one.");
    for (const auto& p : ctx.plugins->plugins())
      w.set(loaded, {{"plugin", p.name.empty() ? p.path : p.name}, {"type", p.type}},
            p.status == "loaded" ? 1 : 0);
    auto& healthy = w.gauge("drover_driver_healthy", "1 when the driver fingerprints healthy.");
    for (const auto& name : ctx.plugins->driver_names()) {
      auto* d = ctx.plugins->driver(name);
      w.set(healthy, {{"driver", name}}, d && d->fingerprint().value("Healthy", false) ? 1 : 0);
    }
  }

  // Where task starts spend their time in the agent (runner/step_timings.hpp): the mean of a
  // step is rate(..._seconds_total) / rate(..._steps_total).
  if (const auto* timings = m.ctx().step_timings) {
    auto& seconds = w.counter("drover_task_start_step_seconds_total",
                              "Time spent in each step of starting tasks, summed.");
    auto& count = w.counter("drover_task_start_steps_total", "Times each start step ran.");
    for (const auto& step : timings->snapshot()) {
      w.set(seconds, {{"step", step.name}}, std::chrono::duration<double>(step.total).count());
      w.set(count, {{"step", step.name}}, static_cast<double>(step.count));
    }
  }

  bool connected = true;
  std::size_t pending = 0;
  if (ctx.upstream_state) std::tie(connected, pending) = ctx.upstream_state();
  w.set(w.gauge("drover_upstream_connected", "1 while the node is registered upstream."), {},
        connected ? 1 : 0);
  w.set(w.gauge("drover_upstream_updates_pending", "Alloc updates not yet acknowledged upstream."),
        {}, static_cast<double>(pending));

  // Node: cpu time from /proc/stat, memory from /proc/meminfo, disk of the data dir.
  {
    std::ifstream in("/proc/stat");
    std::string cpu;
    double v[8] = {};
    in >> cpu;
    for (double& x : v) in >> x;
    double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    auto& cpu_seconds = w.counter("drover_node_cpu_seconds_total", "CPU time of the node by mode.");
    const char* modes[] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
    for (int i = 0; i < 8; ++i) w.set(cpu_seconds, {{"mode", modes[i]}}, v[i] / hz);
  }
  auto mem = meminfo_bytes();
  w.set(w.gauge("drover_node_memory_total_bytes", "Memory of the node."), {},
        static_cast<double>(mem["MemTotal"]));
  w.set(w.gauge("drover_node_memory_available_bytes", "Memory available for new work."), {},
        static_cast<double>(mem["MemAvailable"]));
  struct statvfs fs {};
  if (::statvfs(m.ctx().data_dir.c_str(), &fs) == 0) {
    w.set(w.gauge("drover_node_disk_total_bytes", "Size of the data dir's filesystem."), {},
          static_cast<double>(fs.f_blocks) * fs.f_frsize);
    w.set(w.gauge("drover_node_disk_free_bytes", "Free space on the data dir's filesystem."), {},
          static_cast<double>(fs.f_bavail) * fs.f_frsize);
  }

  auto& alloc_healthy =
      w.gauge("drover_alloc_healthy", "1 healthy, 0 unhealthy; absent while health is undecided.");
  for (const auto& a : allocs)
    if (a.deployment_status.is_object() && a.deployment_status.contains("Healthy"))
      w.set(alloc_healthy, {{"alloc_id", a.id}, {"job", a.job_id}},
            a.deployment_status.value("Healthy", false) ? 1 : 0);
  auto& task_running = w.gauge("drover_task_running", "1 while the task runs.");
  auto& restarts = w.counter("drover_task_restarts_total", "Restarts of the task.");
  for (const auto& a : allocs)
    for (const auto& [name, t] : a.tasks) {
      prometheus::Labels labels = {{"alloc_id", a.id}, {"task", name}, {"job", a.job_id}};
      w.set(task_running, labels, t.state == state::TaskPhase::Running ? 1 : 0);
      w.set(restarts, labels, t.restarts);
    }
  return w.text();
}

void register_metrics_endpoint(httplib::Server& s, const ApiContext& ctx) {
  s.Get("/v1/metrics", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (refuse_metrics_format(req, res)) return;
    reply_metrics(res, render_metrics(ctx));
  });
}

}  // namespace drover::api
