// Prometheus metrics of the agent, the node and its allocs; see metrics_endpoint.hpp.
#include "api/metrics_endpoint.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "drover/loader/registry.hpp"
#include "runner/alloc_manager.hpp"

namespace drover::api {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

class Writer {
 public:
  // One HELP and TYPE per family, then its samples.
  void family(const std::string& name, const std::string& type, const std::string& help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void sample(const std::string& name, const std::map<std::string, std::string>& labels,
              double value) {
    out_ << name;
    if (!labels.empty()) {
      out_ << "{";
      bool first = true;
      for (const auto& [k, v] : labels) {
        out_ << (first ? "" : ",") << k << "=\"" << escape_label(v) << "\"";
        first = false;
      }
      out_ << "}";
    }
    std::ostringstream num;
    num.precision(17);
    num << value;
    out_ << " " << num.str() << "\n";
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::map<std::string, double> meminfo() {
  std::map<std::string, double> m;
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (!key.empty() && key.back() == ':') key.pop_back();
    m[key] = kb * 1024;
  }
  return m;
}

}  // namespace

std::string render_metrics(const ApiContext& ctx) {
  Writer w;
  auto& m = *ctx.allocs;
  auto allocs = m.allocs();

  w.family("drover_agent_uptime_seconds", "gauge", "Seconds since the agent started.");
  w.sample("drover_agent_uptime_seconds", {},
           std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count());

  std::map<std::string, int> by_status = {
      {"pending", 0}, {"running", 0}, {"complete", 0}, {"failed", 0}, {"lost", 0}};
  int tasks_running = 0;
  for (const auto& a : allocs) {
    ++by_status[a.client_status];
    for (const auto& [name, t] : a.tasks) tasks_running += t.state == state::TaskPhase::Running;
  }
  w.family("drover_allocs", "gauge", "Allocs on this node by client status.");
  for (const auto& [s, n] : by_status) w.sample("drover_allocs", {{"client_status", s}}, n);
  w.family("drover_tasks_running", "gauge", "Tasks running on this node.");
  w.sample("drover_tasks_running", {}, tasks_running);

  if (ctx.plugins) {
    w.family("drover_plugin_loaded", "gauge", "1 for a loaded plugin, 0 for a refused one.");
    for (const auto& p : ctx.plugins->plugins())
      w.sample("drover_plugin_loaded",
               {{"plugin", p.name.empty() ? p.path : p.name}, {"type", p.type}},
               p.status == "loaded" ? 1 : 0);
    w.family("drover_driver_healthy", "gauge", "1 when the driver fingerprints healthy.");
    for (const auto& name : ctx.plugins->driver_names()) {
      auto* d = ctx.plugins->driver(name);
      bool healthy = d && d->fingerprint().value("Healthy", false);
      w.sample("drover_driver_healthy", {{"driver", name}}, healthy ? 1 : 0);
    }
  }

  bool connected = true;
  std::size_t pending = 0;
  if (ctx.upstream_state) std::tie(connected, pending) = ctx.upstream_state();
  w.family("drover_upstream_connected", "gauge", "1 while the node is registered upstream.");
  w.sample("drover_upstream_connected", {}, connected ? 1 : 0);
  w.family("drover_upstream_updates_pending", "gauge",
           "Alloc updates not yet acknowledged upstream.");
  w.sample("drover_upstream_updates_pending", {}, static_cast<double>(pending));

  // Node: cpu time from /proc/stat, memory from /proc/meminfo, disk of the data dir.
  {
    std::ifstream in("/proc/stat");
    std::string cpu;
    double v[8] = {};
    in >> cpu;
    for (double& x : v) in >> x;
    double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    w.family("drover_node_cpu_seconds_total", "counter", "CPU time of the node by mode.");
    const char* modes[] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
    for (int i = 0; i < 8; ++i)
      w.sample("drover_node_cpu_seconds_total", {{"mode", modes[i]}}, v[i] / hz);
  }
  auto mem = meminfo();
  w.family("drover_node_memory_total_bytes", "gauge", "Memory of the node.");
  w.sample("drover_node_memory_total_bytes", {}, mem["MemTotal"]);
  w.family("drover_node_memory_available_bytes", "gauge", "Memory available for new work.");
  w.sample("drover_node_memory_available_bytes", {}, mem["MemAvailable"]);
  struct statvfs fs {};
  if (::statvfs(m.ctx().data_dir.c_str(), &fs) == 0) {
    w.family("drover_node_disk_total_bytes", "gauge", "Size of the data dir's filesystem.");
    w.sample("drover_node_disk_total_bytes", {}, static_cast<double>(fs.f_blocks) * fs.f_frsize);
    w.family("drover_node_disk_free_bytes", "gauge", "Free space on the data dir's filesystem.");
    w.sample("drover_node_disk_free_bytes", {}, static_cast<double>(fs.f_bavail) * fs.f_frsize);
  }

  w.family("drover_alloc_healthy", "gauge",
           "1 healthy, 0 unhealthy; absent while health is undecided.");
  for (const auto& a : allocs)
    if (a.deployment_status.is_object() && a.deployment_status.contains("Healthy"))
      w.sample("drover_alloc_healthy", {{"alloc_id", a.id}, {"job", a.job_id}},
               a.deployment_status.value("Healthy", false) ? 1 : 0);
  w.family("drover_task_running", "gauge", "1 while the task runs.");
  for (const auto& a : allocs)
    for (const auto& [name, t] : a.tasks)
      w.sample("drover_task_running", {{"alloc_id", a.id}, {"task", name}, {"job", a.job_id}},
               t.state == state::TaskPhase::Running ? 1 : 0);
  w.family("drover_task_restarts_total", "counter", "Restarts of the task.");
  for (const auto& a : allocs)
    for (const auto& [name, t] : a.tasks)
      w.sample("drover_task_restarts_total",
               {{"alloc_id", a.id}, {"task", name}, {"job", a.job_id}}, t.restarts);
  return w.str();
}

void register_metrics_endpoint(httplib::Server& s, const ApiContext& ctx) {
  s.Get("/v1/metrics", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("format") && req.get_param_value("format") != "prometheus")
      return reply_error(res, 400, "only format=prometheus is served");
    res.set_content(render_metrics(ctx), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace drover::api
