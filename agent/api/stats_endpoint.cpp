#include "api/stats_endpoint.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/meminfo.hpp"
#include "drover/cgroups/stats_json.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/device_manager.hpp"
#include "runner/node_resources.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

struct CpuTimes {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  uint64_t total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
};

std::map<std::string, CpuTimes> read_proc_stat() {
  std::map<std::string, CpuTimes> out;
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu", 0) != 0 || line.rfind("cpu ", 0) == 0) continue;
    std::istringstream ss(line);
    std::string name;
    CpuTimes t;
    ss >> name >> t.user >> t.nice >> t.system >> t.idle >> t.iowait >> t.irq >> t.softirq >> t.steal;
    out[name] = t;
  }
  return out;
}

json host_stats(const runner::AllocManager& m, const runner::DeviceManager* devices) {
  // CPU: percentages over a short window, as Nomad's host stats collector reports them.
  static std::mutex mu;
  static std::map<std::string, CpuTimes> last;
  std::lock_guard lock(mu);
  auto now = read_proc_stat();
  json cpus = json::array();
  for (const auto& [name, t] : now) {
    auto prev = last.count(name) ? last[name] : CpuTimes{};
    double dt = static_cast<double>(t.total() - prev.total());
    auto pct = [&](uint64_t a, uint64_t b) { return dt > 0 ? 100.0 * static_cast<double>(a - b) / dt : 0.0; };
    double idle = pct(t.idle + t.iowait, prev.idle + prev.iowait);
    cpus.push_back({{"CPU", name},
                    {"User", pct(t.user + t.nice, prev.user + prev.nice)},
                    {"System", pct(t.system + t.irq + t.softirq, prev.system + prev.irq + prev.softirq)},
                    {"Idle", idle},
                    {"Total", 100.0 - idle}});
  }
  last = now;
  auto mem = meminfo_bytes();
  json disk = json::array();
  struct statvfs v {};
  if (statvfs(m.ctx().data_dir.c_str(), &v) == 0) {
    uint64_t size = uint64_t(v.f_blocks) * v.f_frsize, avail = uint64_t(v.f_bavail) * v.f_frsize,
             free_b = uint64_t(v.f_bfree) * v.f_frsize;
    uint64_t used = size - free_b;
    disk.push_back({{"Mountpoint", m.ctx().data_dir.string()},
                    {"Size", size},
                    {"Used", used},
                    {"Available", avail},
                    {"UsedPercent", size ? 100.0 * static_cast<double>(used) / static_cast<double>(size) : 0.0},
                    {"InodesUsedPercent",
                     v.f_files ? 100.0 * static_cast<double>(v.f_files - v.f_ffree) / static_cast<double>(v.f_files) : 0.0}});
  }
  double uptime = 0;
  std::ifstream("/proc/uptime") >> uptime;
  return {{"CPU", cpus},
          {"Memory",
           {{"Total", mem["MemTotal"]},
            {"Available", mem["MemAvailable"]},
            {"Free", mem["MemFree"]},
            {"Used", mem["MemTotal"] - mem["MemAvailable"]}}},
          {"DiskStats", disk},
          // Each GPU's utilisation, memory and temperature, as its device plugin reports them.
          {"DeviceStats", devices ? devices->all_stats() : json::array()},
          {"Uptime", static_cast<uint64_t>(uptime)},
          {"Timestamp", state::now_ns()}};
}

// An alloc's figures are the sums of its tasks'; which of them the host measures is the same
// for every task.
void add_task(cgroups::Stats& total, cgroups::CpuUsage& total_cpu, const cgroups::Stats& s,
              const cgroups::CpuUsage& cpu) {
  using cgroups::CpuStats, cgroups::CpuUsage, cgroups::MemoryStats;
  for (auto field : {&MemoryStats::rss, &MemoryStats::cache, &MemoryStats::swap,
                     &MemoryStats::usage, &MemoryStats::max_usage})
    total.memory.*field += s.memory.*field;
  total.memory.measured = s.memory.measured;
  for (auto field : {&CpuStats::user_ns, &CpuStats::system_ns, &CpuStats::total_ns,
                     &CpuStats::throttled_periods, &CpuStats::throttled_time_ns})
    total.cpu.*field += s.cpu.*field;
  total.cpu.measured = s.cpu.measured;
  total.pids += s.pids;
  for (auto field : {&CpuUsage::percent, &CpuUsage::user_percent, &CpuUsage::system_percent,
                     &CpuUsage::total_ticks})
    total_cpu.*field += cpu.*field;
}

}  // namespace

void register_stats_endpoints(httplib::Server& server, const ApiContext& ctx) {
  auto* m = ctx.allocs;
  auto* resources = ctx.resources;
  // Served from the stats collector's latest sample of each task (runner/stats_collector.hpp):
  // no control file is read here, and CPU percent is over the collector's last interval.
  server.Get(R"(/v1/client/allocation/([^/]+)/stats)", [m, resources](
                                                            const httplib::Request& req,
                                                            httplib::Response& res) {
    auto id = m->resolve_alloc_id(req.matches[1]);
    if (!id) return reply_error(res, 404, id.message());
    auto alloc = m->alloc(id.value());
    if (!alloc) return reply_error(res, 404, "alloc not found");
    if (alloc->terminal()) return reply_error(res, 404, "alloc " + alloc->id + " is not running: no stats");
    if (!resources) return reply_error(res, 501, "this agent runs without cgroups: no stats");
    cgroups::Stats total;
    cgroups::CpuUsage total_cpu;
    json tasks = json::object();
    int64_t now = 0;  // the newest sample's time
    // Why each task gave no stats: when none did, the reply says so instead of zeros.
    std::string missing;
    auto note = [&](const std::string& why) { missing += (missing.empty() ? "" : "; ") + why; };
    for (const auto& [task, ts] : alloc->tasks) {
      if (ts.state != state::TaskPhase::Running) {
        note("task \"" + task + "\" is " + state::to_string(ts.state));
        continue;
      }
      auto sample = resources->stats(alloc->id, task);
      if (!sample) {
        note(sample.message());
        continue;
      }
      const auto& cpu = sample->cpu;
      auto usage = cgroups::to_nomad_json(sample->stats, cpu);
      if (auto* dev = resources->devices()) {
        auto ds = dev->stats_for(runner::NodeResources::cgroup_name(alloc->id, task));
        if (!ds.empty()) usage["DeviceStats"] = ds;
      }
      // Nomad's Pids: pid -> usage; per-process usage is not split out here.
      json pids = json::object();
      for (pid_t p : sample->pids) pids[std::to_string(p)] = json::object();
      tasks[task] = {{"ResourceUsage", usage}, {"Timestamp", sample->timestamp_ns}, {"Pids", pids}};
      now = std::max(now, sample->timestamp_ns);
      add_task(total, total_cpu, sample->stats, cpu);
    }
    if (tasks.empty())
      return reply_error(res, 404,
                         "alloc " + alloc->id + " has no live task: no stats (" + missing + ")");
    reply_json(res, {{"ResourceUsage", cgroups::to_nomad_json(total, total_cpu)},
                     {"Tasks", tasks},
                     {"Timestamp", now}});
  });
  server.Get("/v1/client/stats", [m, resources](const httplib::Request&, httplib::Response& res) {
    reply_json(res, host_stats(*m, resources ? resources->devices() : nullptr));
  });
}

}  // namespace drover::api
