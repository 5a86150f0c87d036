// Manager and TaskCgroup: pick the v1 or v2 Hierarchy and the ControlFs for the host, and
// forward to them. Version-specific behaviour lives in v1.cpp and v2.cpp.
#include "drover/common/names.hpp"
#include "hierarchy.hpp"

namespace drover::cgroups {

TaskCgroup::TaskCgroup(std::shared_ptr<Hierarchy> hierarchy, std::string name)
    : hierarchy_(std::move(hierarchy)), name_(std::move(name)) {}

std::vector<std::string> TaskCgroup::procs_files() const { return hierarchy_->procs_files(name_); }
std::string TaskCgroup::relative_path() const { return hierarchy_->relative_path(name_); }
bool TaskCgroup::exists() const { return hierarchy_->exists(name_); }
std::vector<pid_t> TaskCgroup::pids() const { return hierarchy_->pids(name_); }
Status TaskCgroup::kill_all() const { return hierarchy_->kill_all(name_); }
uint64_t TaskCgroup::oom_kill_count() const { return hierarchy_->oom_kill_count(name_); }
Result<Stats> TaskCgroup::stats() const { return hierarchy_->stats(name_); }

const char* to_string(Backend backend) {
  return backend == Backend::Libcgroup ? "libcgroup" : "plain";
}

Result<Backend> parse_backend(const std::string& text) {
  if (text == "plain") return Backend::PlainFiles;
  if (text == "libcgroup") return Backend::Libcgroup;
  return make_error("\"" + text + "\" is not one of plain, libcgroup");
}

Manager::Manager(HostInfo host, std::shared_ptr<Hierarchy> hierarchy)
    : host_(std::move(host)), hierarchy_(std::move(hierarchy)) {}
Manager::~Manager() = default;

Result<std::unique_ptr<Manager>> Manager::open(const HostInfo& host, const std::string& parent,
                                               Backend backend) {
  if (auto st = check_usable(host); !st) return make_error(st.message());
  // The parent is a relative path of plain names: it must stay below the root.
  if (parent.empty() || parent.front() == '/')
    return make_error("cgroup parent '" + parent + "' must be a relative path");
  for (const auto& part : std::filesystem::path(parent))
    if (auto problem = plain_name_problem(part.string()))
      return make_error("cgroup parent '" + parent + "' refused: " + *problem);

  std::shared_ptr<Hierarchy> hierarchy;
  if (host.mode == Mode::V2) {
    if (backend == Backend::Libcgroup)
      return make_error("the libcgroup backend is used for v1 hierarchies only");
    hierarchy = make_v2(host, parent, make_plain_fs(host.root, true));
  } else {
    std::unique_ptr<ControlFs> fs;
    if (backend == Backend::Libcgroup) {
      auto lib = make_libcgroup_fs(host.root, host.mounts);
      if (!lib) return make_error(lib.message());
      fs = std::move(*lib);
    } else {
      fs = make_plain_fs(host.root, false, host.mounts);
    }
    hierarchy = make_v1(host, parent, std::move(fs));
  }
  if (auto st = hierarchy->open_parent(); !st)
    return make_error("cannot set up cgroup parent '" + parent + "': " + st.message());
  return std::unique_ptr<Manager>(new Manager(host, std::move(hierarchy)));
}

namespace {

// A task cgroup's name is one plain path component: it must stay below the parent.
Status check_task_name(const std::string& name) {
  if (auto problem = plain_name_problem(name))
    return make_error("task cgroup name '" + name + "' refused: " + *problem);
  return {};
}

}  // namespace

Result<TaskCgroup> Manager::create(const std::string& name, const Limits& limits) {
  if (auto st = check_task_name(name); !st) return make_error(st.message());
  if (auto st = hierarchy_->create(name, limits); !st) return make_error(st.message());
  return TaskCgroup(hierarchy_, name);
}

TaskCgroup Manager::find(const std::string& name) const { return TaskCgroup(hierarchy_, name); }
std::vector<std::string> Manager::list() const { return hierarchy_->list(); }

Status Manager::remove(const std::string& name) {
  if (auto st = check_task_name(name); !st) return st;
  return hierarchy_->remove(name);
}

Status Manager::remove_parent() { return hierarchy_->remove_parent(); }

}  // namespace drover::cgroups
