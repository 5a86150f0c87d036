// What the bridge-mode tests look at from the host: an HTTP GET on a published port, a shell
// command's output, and the host side of an alloc namespace's veth.
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

}  // namespace drover::testing
