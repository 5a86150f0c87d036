#include "core/fingerprint.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "drover/cgroups/cpuset_pool.hpp"

namespace drover::agent {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\"");
  auto e = s.find_last_not_of(" \t\"\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// "key<sep>value" lines of a /proc or /etc file; the first match wins.
std::map<std::string, std::string> read_pairs(const char* path, char sep) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find(sep);
    if (pos == std::string::npos) continue;
    auto k = trim(line.substr(0, pos));
    if (!out.count(k)) out[k] = trim(line.substr(pos + 1));
  }
  return out;
}

std::string arch_name(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  return machine;
}

}  // namespace

std::map<std::string, std::string> fingerprint_node(const std::filesystem::path& data_dir) {
  std::map<std::string, std::string> a;
  struct utsname u {};
  if (uname(&u) == 0) {
    a["kernel.name"] = u.sysname[0] == 'L' ? "linux" : u.sysname;
    a["kernel.version"] = u.release;
    a["kernel.arch"] = u.machine;
    a["cpu.arch"] = arch_name(u.machine);
    a["unique.hostname"] = u.nodename;
  }
  auto cpu = read_pairs("/proc/cpuinfo", ':');
  unsigned cores = std::thread::hardware_concurrency();
  a["cpu.numcores"] = std::to_string(cores);
  a["cpu.reservablecores"] = std::to_string(cores);
  if (cpu.count("model name")) a["cpu.modelname"] = cpu["model name"];
  long mhz = 0;
  if (std::ifstream f("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"); f >> mhz)
    mhz /= 1000;
  else if (cpu.count("cpu MHz"))
    mhz = std::lround(std::stod(cpu["cpu MHz"]));
  if (mhz > 0) {
    a["cpu.frequency"] = std::to_string(mhz);
    a["cpu.totalcompute"] = std::to_string(mhz * cores);
    a["cpu.usablecompute"] = std::to_string(mhz * cores);
  }
  auto mem = read_pairs("/proc/meminfo", ':');
  if (mem.count("MemTotal")) {
    long kb = std::stol(mem["MemTotal"]);
    a["memory.totalbytes"] = std::to_string(kb * 1024);
  }
  auto os = read_pairs("/etc/os-release", '=');
  if (os.count("ID")) a["os.name"] = os["ID"];
  if (os.count("VERSION_ID")) a["os.version"] = os["VERSION_ID"];
  struct statvfs vfs {};
  if (statvfs(data_dir.c_str(), &vfs) == 0) {
    a["unique.storage.volume"] = data_dir.string();
    a["unique.storage.bytestotal"] = std::to_string(uint64_t(vfs.f_blocks) * vfs.f_frsize);
    a["unique.storage.bytesfree"] = std::to_string(uint64_t(vfs.f_bavail) * vfs.f_frsize);
  }
  // cgroup mode: a unified mount with controllers is v2; per-controller mounts are v1.
  std::error_code ec;
  if (std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers", ec)) {
    a["os.cgroups.version"] = "2";
    a["unique.cgroup.version"] = "v2";
  } else if (std::filesystem::exists("/sys/fs/cgroup/memory", ec)) {
    a["os.cgroups.version"] = "1";
    a["unique.cgroup.version"] = "v1";
  }
  a["unique.cgroup.mountpoint"] = "/sys/fs/cgroup";
  // The first non-loopback IPv4 address, as Nomad's network fingerprint picks by default.
  struct ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) == 0) {
    for (auto* i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK)) continue;
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      a["unique.network.ip-address"] = buf;
      break;
    }
    freeifaddrs(ifs);
  }
  // NUMA nodes and their cores, Nomad's attributes: what a task's `numa { affinity }` and a
  // constraint on ${attr.numa.node0.cores} are judged by. A kernel without NUMA shows one.
  const auto numa = cgroups::read_numa_nodes();
  a["numa.node.count"] = std::to_string(numa.empty() ? 1 : numa.size());
  for (const auto& [node, cpus] : numa)
    a["numa.node" + std::to_string(node) + ".cores"] = cgroups::format_cpus(cpus);
  a["os.signals"] = "SIGABRT,SIGALRM,SIGBUS,SIGCHLD,SIGCONT,SIGFPE,SIGHUP,SIGILL,SIGINT,SIGIO,"
                    "SIGKILL,SIGPIPE,SIGPROF,SIGQUIT,SIGSEGV,SIGSTOP,SIGSYS,SIGTERM,SIGTRAP,"
                    "SIGTSTP,SIGTTIN,SIGTTOU,SIGURG,SIGUSR1,SIGUSR2,SIGVTALRM,SIGWINCH,SIGXCPU,"
                    "SIGXFSZ";
  return a;
}

}  // namespace drover::agent
