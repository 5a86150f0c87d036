// What the bridge-mode tests look at from the host: an HTTP GET on a published port, a shell
// command's output, and the host side of an alloc namespace's veth; and the CNI network config
// the cni/<name> tests give their agent.
#pragma once

#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "agent_process.hpp"

namespace drover::testing {

// The body of GET 127.0.0.1:<port><path> when it answers 200; "" otherwise.
inline std::string fetch(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  auto r = c.Get(path);
  return r && r->status == 200 ? r->body : "";
}

inline CmdResult sh(const std::string& cmd) {
  CmdResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.exit_code = ::pclose(p);
  return r;
}

// The host-side veth of the namespace's eth0 (its peer's ifindex, looked up on the host).
inline std::string host_veth(const std::string& netns) {
  // "2: eth0@if12: ..." (sysfs would show the host's view: nsenter does not remount it).
  auto line = sh("nsenter --net=" + netns + " ip -o link show eth0").out;
  auto at = line.find("@if");
  if (at == std::string::npos) return "";
  auto idx = line.substr(at + 3, line.find(':', at) - at - 3);
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net")) {
    auto i = read_file((e.path() / "ifindex").string());
    while (!i.empty() && i.back() == '\n') i.pop_back();
    if (i == idx) return e.path().filename().string();
  }
  return "";
}

// Writes <conf_dir>/10-<name>.conflist: the reference bridge plugin on `bridge` with
// host-local addresses from <prefix>0/24 (leases kept under `ipam_dir`), portmap, then `more`
// plugins. Each test names its own bridge and prefix: tests run side by side.
inline void write_cni_bridge_network(const std::string& conf_dir, const std::string& name,
                                     const std::string& bridge, const std::string& prefix,
                                     const std::string& ipam_dir,
                                     const nlohmann::json& more = nlohmann::json::array()) {
  nlohmann::json plugins = {
      {{"type", "bridge"},
       {"bridge", bridge},
       {"isGateway", true},
       {"ipMasq", false},
       {"ipam",
        {{"type", "host-local"},
         {"ranges", {{{{"subnet", prefix + "0/24"}}}}},
         {"routes", {{{"dst", "0.0.0.0/0"}}}},
         {"dataDir", ipam_dir}}}},
      {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}}};
  for (const auto& p : more) plugins.push_back(p);
  std::filesystem::create_directories(conf_dir);
  write_file(conf_dir + "/10-" + name + ".conflist",
             nlohmann::json{{"cniVersion", "1.0.0"}, {"name", name}, {"plugins", plugins}}.dump(2));
}

}  // namespace drover::testing
