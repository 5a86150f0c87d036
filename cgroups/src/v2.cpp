// cgroup v2: one tree, <root>/<parent>/<name>.scope. Controllers are switched on for the
// children through cgroup.subtree_control at every level of the parent chain. Kill with
// cgroup.kill (kernel >= 5.14) or cgroup.freeze + SIGKILL; OOM from memory.events oom_kill.
// Plain file writes throughout: these are the files the fake-tree tests check.
// An agent whose own cgroup lies on the parent chain (systemd's Delegate=yes with
// cgroup_parent below the unit) first moves itself into the leaf <own>/drover-agent:
// docs/cgroups.md, "Layout".
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "files.hpp"
#include "hierarchy.hpp"
#include "resources.hpp"
#include "stats.hpp"

namespace drover::cgroups {

namespace fs = std::filesystem;

namespace {

constexpr const char* kScope = ".scope";
// The leaf the agent (and every process of its own cgroup) moves to when task cgroups are
// made below its own cgroup: a sibling of the tasks' cgroups, never listed as one of them.
constexpr const char* kAgentLeaf = "drover-agent";

std::set<std::string> words_in(const fs::path& file) {
  std::set<std::string> out;
  auto text = read_file(file);
  if (!text) return out;
  std::istringstream in(*text);
  std::string w;
  while (in >> w) out.insert(w[0] == '+' ? w.substr(1) : w);  // "+cpu" in fake trees
  return out;
}

class V2 final : public Hierarchy {
 public:
  V2(HostInfo host, std::string parent, std::unique_ptr<ControlFs> fs)
      : host_(std::move(host)), parent_(std::move(parent)), fs_(std::move(fs)) {}

  Status open_parent() override {
    if (auto st = leave_own_cgroup(); !st) return st;
    // Every level from the root down to the parent passes the controllers on to its children.
    std::string level;
    if (auto st = enable_controllers(level); !st) return st;
    for (const auto& part : fs::path(parent_)) {
      level = level.empty() ? part.string() : level + "/" + part.string();
      if (auto st = fs_->make_group("", level); !st) return st;
      if (auto st = enable_controllers(level); !st) return st;
    }
    return {};
  }

  Status create(const std::string& name, const Limits& limits) override {
    const std::string g = group(name);
    std::error_code ec;
    const bool reused = fs::is_directory(fs_->dir("", g), ec);
    if (auto st = fs_->make_group("", g); !st) return fail(name, st);
    auto enabled = words_in(fs_->dir("", parent_) / "cgroup.subtree_control");
    if (reused && limits.cpuset.empty() && enabled.count("cpuset")) {
      // A group left from an earlier run may still hold that run's reserved cores: a task
      // without cores gets the shared cpus back, the parent's cpuset.cpus, as on v1. That is
      // usually empty (all of the parent's effective cpus), which only a write of "\n" sets.
      auto shared = read_file(fs_->dir("", parent_) / "cpuset.cpus");
      if (!shared) return fail(name, make_error(shared.message()));
      std::string value = *shared;
      while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
      if (auto st = fs_->write("", g, "cpuset.cpus", value.empty() ? "\n" : value); !st)
        return fail(name, st);
    }
    for (const auto& s : plan_v2(limits)) {
      if (!enabled.count(s.controller) || !fs::exists(fs_->dir("", g) / s.file, ec)) {
        if (s.optional) continue;
        return fail(name, make_error("cannot apply " + s.file + ": the " + s.controller +
                                     " controller is not enabled in " +
                                     (fs_->dir("", parent_) / "cgroup.subtree_control").string()));
      }
      auto st = fs_->write("", g, s.file, s.value);
      if (!st && !s.optional) return fail(name, st);
    }
    return {};
  }

  bool exists(const std::string& name) const override {
    std::error_code ec;
    return fs::is_directory(fs_->dir("", group(name)), ec);
  }

  std::vector<std::string> procs_files(const std::string& name) const override {
    return {(fs_->dir("", group(name)) / "cgroup.procs").string()};
  }

  std::string relative_path(const std::string& name) const override { return group(name); }

  std::vector<pid_t> pids(const std::string& name) const override {
    return read_pids(fs_->dir("", group(name)) / "cgroup.procs");
  }

  std::vector<std::string> list() const override {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs_->dir("", parent_), ec)) {
      std::string n = e.path().filename().string();
      if (e.is_directory(ec) && n.ends_with(kScope) && n.size() > std::strlen(kScope))
        names.push_back(n.substr(0, n.size() - std::strlen(kScope)));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Status kill_all(const std::string& name) override {
    if (!exists(name)) return {};
    const std::string g = group(name);
    std::error_code ec;
    std::function<Status()> freeze, thaw;
    if (fs::exists(fs_->dir("", g) / "cgroup.kill", ec)) {
      // The kernel kills every process, including ones forking right now.
      if (auto st = fs_->write("", g, "cgroup.kill", "1"); !st) return st;
    } else if (fs::exists(fs_->dir("", g) / "cgroup.freeze", ec)) {
      freeze = [this, g] { return fs_->write("", g, "cgroup.freeze", "1"); };
      thaw = [this, g] { return fs_->write("", g, "cgroup.freeze", "0"); };
    }
    auto st = kill_loop(
        g, [this, name] { return pids(name); }, freeze, thaw);
    if (thaw) (void)thaw();
    return st;
  }

  Status remove_parent() override { return fs_->remove_group("", parent_); }

  Status remove(const std::string& name) override {
    auto killed = kill_all(name);
    Status st;
    for (int attempt = 0; attempt < 50; ++attempt) {
      st = fs_->remove_group("", group(name));
      if (st || st.message().find("busy") == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!st) return make_error(st.message() + (killed ? "" : " (" + killed.message() + ")"));
    return killed;
  }

  uint64_t oom_kill_count(const std::string& name) const override {
    auto events = read_kv(fs_->dir("", group(name)) / "memory.events");
    return events.count("oom_kill") ? events["oom_kill"] : 0;
  }

  Result<Stats> stats(const std::string& name) const override {
    if (!exists(name)) return make_error("task cgroup " + group(name) + " does not exist");
    return read_stats_v2(fs_->dir("", group(name)));
  }

 private:
  std::string group(const std::string& name) const { return parent_ + "/" + name + kScope; }

  Status fail(const std::string& name, const Status& st) {
    (void)remove(name);
    return make_error("cannot create task cgroup " + group(name) + ": " + st.message());
  }

  // The agent's own cgroup below the root, as /proc/self/cgroup's "0::" line names it; ""
  // at the root (which may hold processes and still pass controllers on), or where that
  // path is not this tree's (a fake tree, another mount): there the agent's pid is not listed.
  std::string own_cgroup() const {
    auto text = read_file("/proc/self/cgroup");
    if (!text) return "";
    std::istringstream in(*text);
    std::string line, own;
    while (std::getline(in, line))
      if (line.starts_with("0::/")) own = line.substr(4);
    if (own.empty()) return "";
    auto pids = read_pids(fs_->dir("", own) / "cgroup.procs");
    return std::find(pids.begin(), pids.end(), getpid()) != pids.end() ? own : "";
  }

  // No process may live in a cgroup that passes controllers on (the kernel refuses the
  // subtree_control write, EBUSY). When the parent is the agent's own cgroup or below it,
  // as under systemd with Delegate=yes and cgroup_parent inside the unit's cgroup, every
  // process in it moves to the leaf <own>/drover-agent first: the agent (cgroup.procs moves
  // all its threads) and the monitors it or an earlier agent started there. Monitors the
  // agent starts later are born in the leaf with it.
  Status leave_own_cgroup() {
    const std::string own = own_cgroup();
    if (own.empty() || (parent_ != own && !parent_.starts_with(own + "/"))) return {};
    const std::string leaf = own + "/" + kAgentLeaf;
    if (auto st = fs_->make_group("", leaf); !st) return st;
    Status last;
    for (int round = 0; round < 10; ++round) {  // a process may fork while we move the others
      auto pids = read_pids(fs_->dir("", own) / "cgroup.procs");
      if (pids.empty()) return {};
      for (pid_t p : pids)
        if (auto st = fs_->write("", leaf, "cgroup.procs", std::to_string(p)); !st) last = st;
    }
    return make_error("cannot move the processes of the agent's own cgroup " + own + " into " +
                      leaf + (last ? std::string() : ": " + last.message()));
  }

  // Writes "+cpu +memory +pids +cpuset" (those the level has, in one write) to `level`'s
  // cgroup.subtree_control; memory and cpu are required, pids and cpuset used where present.
  Status enable_controllers(const std::string& level) {
    fs::path dir = fs_->dir("", level);
    auto available = words_in(dir / "cgroup.controllers");
    auto enabled = words_in(dir / "cgroup.subtree_control");
    std::string add;
    for (const char* c : {"cpu", "memory", "pids", "cpuset"}) {
      bool required = std::string(c) == "cpu" || std::string(c) == "memory";
      if (enabled.count(c)) continue;
      if (!available.count(c)) {
        if (!required) continue;
        return make_error(std::string("cgroup v2: the ") + c + " controller is not available in " +
                          (dir / "cgroup.controllers").string());
      }
      add += (add.empty() ? "+" : " +") + std::string(c);
    }
    if (add.empty()) return {};
    return fs_->write("", level, "cgroup.subtree_control", add);
  }

  HostInfo host_;
  std::string parent_;
  std::unique_ptr<ControlFs> fs_;
};

}  // namespace

std::shared_ptr<Hierarchy> make_v2(HostInfo host, std::string parent,
                                   std::unique_ptr<ControlFs> fs) {
  return std::make_shared<V2>(std::move(host), std::move(parent), std::move(fs));
}

}  // namespace drover::cgroups
