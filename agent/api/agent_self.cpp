#include "api/agent_self.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "api/http_api.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/task_env.hpp"

namespace drover::api {
namespace {

// The process's age from /proc: its start (clock ticks after boot, /proc/self/stat field 22)
// against the system's uptime.
std::string process_uptime() {
  std::ifstream stat("/proc/self/stat"), up("/proc/uptime");
  std::string line;
  double uptime = 0;
  if (!std::getline(stat, line) || !(up >> uptime)) return "";
  // Fields after the command (which may hold spaces) start at the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long long start = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) start = std::stoull(field);
  const double age = uptime - static_cast<double>(start) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ostringstream out;
  out << static_cast<long long>(age < 0 ? 0 : age) << "s";
  return out.str();
}

std::string status_field(const char* name) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name, 0) == 0) {
      auto v = line.substr(line.find(':') + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "";
}

}  // namespace

nlohmann::json runtime_stats() {
  struct utsname u {};
  uname(&u);
  std::string arch = u.machine;
  if (arch == "x86_64") arch = "amd64";
  if (arch == "aarch64") arch = "arm64";
  std::string rss = status_field("VmRSS:");  // "12345 kB"
  if (auto sp = rss.find(' '); sp != std::string::npos)
    rss = std::to_string(std::stoull(rss.substr(0, sp)) * 1024);
  return {{"arch", arch},
          {"cpu_count", std::to_string(sysconf(_SC_NPROCESSORS_ONLN))},
          {"kernel.name", "linux"},
          {"kernel.version", std::string(u.release)},
          {"threads", status_field("Threads:")},
          {"rss_bytes", rss},
          {"uptime", process_uptime()}};
}

nlohmann::json agent_self(const ApiContext& ctx) {
  nlohmann::json client = {{"node_id", ctx.node ? ctx.node->id : ""}};
  if (ctx.allocs) {
    std::size_t all = 0, live = 0;
    for (const auto& a : ctx.allocs->allocs()) {
      ++all;
      live += !a.terminal();
    }
    client["num_allocations"] = std::to_string(all);
    client["num_live_allocations"] = std::to_string(live);
  }
  if (ctx.upstream_state) {
    auto [connected, pending] = ctx.upstream_state();
    client["upstream_connected"] = connected ? "true" : "false";
    client["updates_pending"] = std::to_string(pending);
  }
  const std::string name = ctx.node ? ctx.node->name : "";
  return {{"config",
           {{"Version", ctx.version},
            {"Region", "global"},
            {"Datacenter", ctx.node ? ctx.node->datacenter : ""},
            {"NodeName", name},
            {"Client", {{"Enabled", true}}},
            {"Server", {{"Enabled", false}}},
            {"ACL", {{"Enabled", ctx.acl != nullptr}}},
            {"TLSConfig", {{"EnableHTTP", !ctx.tls.cert_file.empty()}}}}},
          {"member", {{"Name", name}, {"Addr", ctx.http_addr}, {"Status", "alive"}}},
          {"stats",
           {{"client", client},
            {"nomad", {{"server", "false"}, {"leader", "false"}, {"bootstrap", "false"}}},
            {"runtime", runtime_stats()}}}};
}

}  // namespace drover::api
