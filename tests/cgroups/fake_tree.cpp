// Fake cgroupfs trees for the unit tests (see fake_tree.hpp).
#include "fake_tree.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace drover::cgroups::fake {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "drover-cgroups-XXXXXX").string();
  path_ = ::mkdtemp(tmpl.data());
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void put(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

namespace {
const char* const kV1[] = {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"};
}

void fake_v1_root(const fs::path& root, bool hybrid, const std::vector<std::string>& skip) {
  for (const char* c : kV1) {
    if (std::find(skip.begin(), skip.end(), c) != skip.end()) continue;
    put(root / c / "cgroup.procs", "");
  }
  put(root / "systemd" / "cgroup.procs", "");  // a named hierarchy, not a controller
  put(root / "cpuset" / "cpuset.cpus", "0-1\n");
  put(root / "cpuset" / "cpuset.mems", "0\n");
  if (hybrid) {
    put(root / "unified" / "cgroup.controllers", "\n");
    put(root / "unified" / "cgroup.procs", "");
  }
}

void fake_v1_group(const fs::path& root, const std::string& group) {
  auto in = [&](const char* c) { return root / c / group; };
  auto has = [&](const char* c) { return fs::exists(root / c); };
  if (has("cpu"))
    for (const char* f : {"cgroup.procs", "cpu.shares", "cpu.stat"}) put(in("cpu") / f, "");
  if (has("cpuacct"))
    for (const char* f : {"cgroup.procs", "cpuacct.stat", "cpuacct.usage"})
      put(in("cpuacct") / f, "");
  if (has("cpuset"))
    for (const char* f : {"cgroup.procs", "cpuset.cpus", "cpuset.mems"}) put(in("cpuset") / f, "");
  if (has("memory"))
    for (const char* f :
         {"cgroup.procs", "memory.limit_in_bytes", "memory.soft_limit_in_bytes",
          "memory.memsw.limit_in_bytes", "memory.swappiness", "memory.oom_control", "memory.stat",
          "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt"})
      put(in("memory") / f, "");
  if (has("pids"))
    for (const char* f : {"cgroup.procs", "pids.max", "pids.current"}) put(in("pids") / f, "");
  if (has("freezer"))
    for (const char* f : {"cgroup.procs", "freezer.state"}) put(in("freezer") / f, "");
}

void fake_v2_root(const fs::path& root, const std::string& controllers) {
  put(root / "cgroup.controllers", controllers + "\n");
  put(root / "cgroup.subtree_control", "");
  put(root / "cgroup.procs", "");
}

void fake_v2_group(const fs::path& dir, const std::string& controllers) {
  put(dir / "cgroup.controllers", controllers + "\n");
  for (const char* f : {"cgroup.subtree_control", "cgroup.procs", "cgroup.kill", "cgroup.freeze",
                        "cpu.weight", "cpu.max", "cpu.stat", "cpuset.cpus", "memory.max",
                        "memory.low", "memory.high", "memory.swap.max", "memory.events",
                        "memory.stat", "memory.current", "pids.max", "pids.current"})
    put(dir / f, "");
}

}  // namespace drover::cgroups::fake
