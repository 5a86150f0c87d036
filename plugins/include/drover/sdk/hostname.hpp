// The alloc's hostname (a group network's `hostname`, docs/networking.md "Hostname"): what
// makes a name a host name, and the /etc/hosts a driver gives a task that has it, so that the
// name resolves inside (Nomad's HostsConfig). Header-only, for the agent and the drivers.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace drover::sdk {

// 1 to 63 characters (what a UTS namespace holds) of letters, digits, '-' and '.'; no label
// empty, or starting or ending with '-'.
inline bool is_host_name(std::string_view h) {
  if (h.empty() || h.size() > 63) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = h.find('.', start);
    const std::string_view label = h.substr(start, dot == std::string_view::npos ? h.size() - start : dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
        return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// An /etc/hosts with the usual loopback names and `hostname` at `address` (the alloc's
// address; 127.0.1.1, as Debian names its own host, in mode none where it has none).
inline std::string hosts_file_text(const std::string& hostname, const std::string& address) {
  return "# written by drover: the alloc's hostname (its group network's hostname)\n"
         "127.0.0.1\tlocalhost\n"
         "::1\tlocalhost ip6-localhost ip6-loopback\n" +
         (address.empty() ? std::string("127.0.1.1") : address) + "\t" + hostname + "\n";
}

// Writes `text` as <dir>/<name>, mode 0644 (the task's user may be nobody), for a driver to
// mount over a file of /etc (hosts, resolv.conf); returns its path. Throws naming the file.
inline std::string write_etc_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out || ::chmod(path.c_str(), 0644) != 0) throw std::runtime_error("writing " + path + " failed");
  return path;
}

// hosts_file_text as <dir>/hosts, for the driver to mount at /etc/hosts.
inline std::string write_hosts_file(const std::string& dir, const std::string& hostname,
                                    const std::string& address) {
  return write_etc_file(dir, "hosts", hosts_file_text(hostname, address));
}

}  // namespace drover::sdk
