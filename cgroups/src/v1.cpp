// cgroup v1 (and hybrid hosts): one directory per hierarchy,
// <mount of controller>/<parent>/<name>. Writes go through ControlFs (plain files, or
// libcgroup when asked); freezing uses the freezer hierarchy, OOM the memory.oom_control
// oom_kill counter.
#include <algorithm>
#include <chrono>
#include <thread>

#include "files.hpp"
#include "hierarchy.hpp"
#include "resources.hpp"
#include "stats.hpp"

namespace drover::cgroups {

namespace fs = std::filesystem;

namespace {

const char* const kWanted[] = {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"};

class V1 final : public Hierarchy {
 public:
  V1(HostInfo host, std::string parent, std::unique_ptr<ControlFs> fs)
      : host_(std::move(host)), parent_(std::move(parent)), fs_(std::move(fs)) {
    // Co-mounted controllers (cpu,cpuacct) share a directory: act on each directory once.
    std::vector<fs::path> seen;
    for (const char* c : kWanted) {
      if (!host_.controllers.count(c)) continue;
      used_.push_back(c);
      std::error_code ec;
      fs::path mount = fs::weakly_canonical(fs_->dir(c, ""), ec);
      if (std::find(seen.begin(), seen.end(), mount) == seen.end()) {
        seen.push_back(mount);
        distinct_.push_back(c);
      }
    }
  }

  Status open_parent() override {
    std::string prefix;
    for (const auto& part : fs::path(parent_)) {
      std::string above = prefix;
      prefix = prefix.empty() ? part.string() : prefix + "/" + part.string();
      for (const auto& c : distinct_)
        if (auto st = fs_->make_group(c, prefix); !st) return st;
      if (has("cpuset"))
        if (auto st = inherit_cpuset(above, prefix, false, false); !st) return st;
    }
    // The kernel then gives each new task cgroup the parent's cpus and mems at mkdir, so a
    // task start neither reads the parent's nor writes its own (cgroup-v1/cgroups.rst).
    if (has("cpuset"))
      clone_children_ = fs_->write("cpuset", parent_, "cgroup.clone_children", "1").ok();
    return {};
  }

  Status create(const std::string& name, const Limits& limits) override {
    const std::string g = group(name);
    std::error_code ec;
    const bool fresh = has("cpuset") && !fs::exists(fs_->dir("cpuset", g), ec);
    for (const auto& c : distinct_) {
      if (auto st = fs_->make_group(c, g); !st) return fail(name, st);
    }
    if (has("cpuset") && !(fresh && clone_children_)) {
      // A v1 cpuset child starts with no cpus and no mems, and a task cannot join it until
      // both are set: tasks without reserved cores get the parent's (shared) cpus. A group
      // left from an earlier run gets them again, whatever it held before.
      if (auto st = inherit_cpuset(parent_, g, !limits.cpuset.empty(), !fresh); !st)
        return fail(name, st);
    }
    for (const auto& s : plan_v1(limits)) {
      if (!has(s.controller)) {
        if (s.optional) continue;
        return fail(name, make_error("cannot apply " + s.file + ": the " + s.controller +
                                     " controller is not mounted under " + host_.root.string()));
      }
      if (s.optional && !fs::exists(fs_->dir(s.controller, g) / s.file, ec)) continue;
      auto st = fs_->write(s.controller, g, s.file, s.value);
      if (!st && !s.optional) return fail(name, st);
    }
    return {};
  }

  bool exists(const std::string& name) const override {
    std::error_code ec;
    for (const auto& c : distinct_)
      if (fs::is_directory(fs_->dir(c, group(name)), ec)) return true;
    return false;
  }

  std::vector<std::string> procs_files(const std::string& name) const override {
    std::vector<std::string> out;
    for (const auto& c : distinct_)
      out.push_back((fs_->dir(c, group(name)) / "cgroup.procs").string());
    return out;
  }

  std::string relative_path(const std::string& name) const override { return group(name); }

  std::vector<pid_t> pids(const std::string& name) const override {
    // The task is attached to every hierarchy at once and cannot leave one on its own, so
    // one hierarchy's list is the list (stats ask for it on every read): the pids
    // controller's when used, else the first that has the group.
    const std::string g = group(name);
    std::vector<std::string> order;
    if (has("pids")) order.push_back("pids");
    for (const auto& c : distinct_) order.push_back(c);
    std::error_code ec;
    for (const auto& c : order) {
      auto dir = fs_->dir(c, g);
      if (!fs::is_directory(dir, ec)) continue;
      auto p = read_pids(dir / "cgroup.procs");
      std::sort(p.begin(), p.end());
      return p;
    }
    return {};
  }

  std::vector<std::string> list() const override {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& c : distinct_)
      for (const auto& e : fs::directory_iterator(fs_->dir(c, parent_), ec))
        if (e.is_directory(ec)) names.insert(e.path().filename().string());
    return {names.begin(), names.end()};
  }

  Status kill_all(const std::string& name) override {
    if (!exists(name)) return {};
    const std::string g = group(name);
    std::function<Status()> freeze, thaw;
    if (has("freezer")) {
      freeze = [this, g] { return set_freezer(g, "FROZEN"); };
      thaw = [this, g] { return fs_->write("freezer", g, "freezer.state", "THAWED"); };
    }
    auto st = kill_loop(
        relative_path(name), [this, name] { return pids(name); }, freeze, thaw);
    if (thaw) (void)thaw();  // never leave a group frozen, even when the kill failed
    return st;
  }

  Status remove_parent() override {
    Status first;
    for (const auto& c : distinct_)
      if (auto st = fs_->remove_group(c, parent_); !st && first) first = st;
    return first;
  }

  Status remove(const std::string& name) override {
    auto killed = kill_all(name);
    for (const auto& c : distinct_) {
      Status st;
      for (int attempt = 0; attempt < 50; ++attempt) {
        st = fs_->remove_group(c, group(name));
        if (st || st.message().find("busy") == std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!st) return make_error(st.message() + (killed ? "" : " (" + killed.message() + ")"));
    }
    return killed;
  }

  uint64_t oom_kill_count(const std::string& name) const override {
    if (!has("memory")) return 0;
    fs::path dir = fs_->dir("memory", group(name));
    auto oom = read_kv(dir / "memory.oom_control");
    if (oom.count("oom_kill")) return oom["oom_kill"];
    // Kernels before 4.13 have no counter: a group that hit its limit and is, or was,
    // under OOM is reported as one kill.
    uint64_t failcnt = read_u64(dir / "memory.failcnt").value_or(0);
    auto limit = read_u64(dir / "memory.limit_in_bytes");
    auto max_usage = read_u64(dir / "memory.max_usage_in_bytes");
    bool at_limit = limit && max_usage && *max_usage >= *limit;
    return (oom["under_oom"] > 0 || (failcnt > 0 && at_limit)) ? 1 : 0;
  }

  Result<Stats> stats(const std::string& name) const override {
    if (!exists(name)) return make_error("task cgroup " + relative_path(name) + " does not exist");
    auto dir = [&](const char* c) { return has(c) ? fs_->dir(c, group(name)) : fs::path(); };
    return read_stats_v1(dir("memory"), dir("cpuacct"), dir("cpu"), dir("pids"));
  }

 private:
  bool has(const std::string& c) const {
    return std::find(used_.begin(), used_.end(), c) != used_.end();
  }
  std::string group(const std::string& name) const { return parent_ + "/" + name; }

  Status fail(const std::string& name, const Status& st) {
    (void)remove(name);  // no half-made cgroup is left behind
    return make_error("cannot create task cgroup " + group(name) + ": " + st.message());
  }

  // Copies cpuset.cpus (unless `keep_cpus`: the caller writes its own) and cpuset.mems from
  // `from` to `to` when `to` has none yet, or always when `overwrite`.
  Status inherit_cpuset(const std::string& from, const std::string& to, bool keep_cpus,
                        bool overwrite) {
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      if (keep_cpus && std::string(file) == "cpuset.cpus") continue;
      if (!overwrite) {
        auto mine = read_file(fs_->dir("cpuset", to) / file);
        if (mine && mine->find_first_not_of(" \n") != std::string::npos) continue;
      }
      auto theirs = read_file(fs_->dir("cpuset", from) / file);
      if (!theirs) return make_error(theirs.message());
      std::string value = *theirs;
      while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
      if (value.empty()) continue;
      if (auto st = fs_->write("cpuset", to, file, value); !st) return st;
    }
    return {};
  }

  // FROZEN is reached through FREEZING; wait briefly so the kill round sees a stopped group.
  Status set_freezer(const std::string& g, const char* state) {
    auto st = fs_->write("freezer", g, "freezer.state", state);
    if (!st) return st;
    for (int i = 0; i < 50; ++i) {
      auto now = read_file(fs_->dir("freezer", g) / "freezer.state");
      if (!now || now->rfind(state, 0) == 0) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return {};
  }

  HostInfo host_;
  std::string parent_;
  std::unique_ptr<ControlFs> fs_;
  std::vector<std::string> used_;      // wanted controllers the host has
  std::vector<std::string> distinct_;  // one per hierarchy directory
  bool clone_children_ = false;        // the parent's cpuset hands cpus and mems to children
};

}  // namespace

std::shared_ptr<Hierarchy> make_v1(HostInfo host, std::string parent,
                                   std::unique_ptr<ControlFs> fs) {
  return std::make_shared<V1>(std::move(host), std::move(parent), std::move(fs));
}

}  // namespace drover::cgroups
