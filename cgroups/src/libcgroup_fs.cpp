// ControlFs on libcgroup (docs/design.md, "Dependencies": it creates, limits and removes
// cgroups), for the v1 hierarchies of the real host when the agent's `cgroup_backend` is
// libcgroup: libcgroup finds the mounts itself in cgroup_init(). Not the default: per task it
// chowns every control file and re-reads the mount table on each modify call (docs/cgroups.md
// has the numbers).
#include <libcgroup.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "control_fs.hpp"

namespace drover::cgroups {
namespace {

std::mutex g_mutex;  // libcgroup keeps global mount tables; calls are serialised

std::string why(int rc) {
  if (rc == ECGOTHER) return std::strerror(cgroup_get_last_errno());
  return cgroup_strerror(rc);
}

// A cgroup struct with one controller, freed on scope exit.
struct Group {
  cgroup* cg = nullptr;
  cgroup_controller* ctrl = nullptr;
  Group(const std::string& group, const std::string& controller) {
    cg = cgroup_new_cgroup(group.c_str());
    if (cg) ctrl = cgroup_add_controller(cg, controller.c_str());
  }
  ~Group() {
    if (cg) cgroup_free(&cg);
  }
  bool ok() const { return cg && ctrl; }
};

class LibcgroupFs final : public ControlFs {
 public:
  using ControlFs::ControlFs;

  Status make_group(const std::string& controller, const std::string& group) override {
    std::lock_guard lock(g_mutex);
    Group g(group, controller);
    if (!g.ok()) return make_error("libcgroup cannot describe " + controller + ":" + group);
    int rc = cgroup_create_cgroup(g.cg, 0);
    if (rc != 0)
      return make_error("cannot create cgroup " + controller + ":" + group + ": " + why(rc));
    return {};
  }

  Status write(const std::string& controller, const std::string& group, const std::string& file,
               const std::string& value) override {
    std::lock_guard lock(g_mutex);
    // One value per modify call, so that a refusal names the file that was refused.
    Group g(group, controller);
    if (!g.ok()) return make_error("libcgroup cannot describe " + controller + ":" + group);
    cgroup_add_value_string(g.ctrl, file.c_str(), value.c_str());
    int rc = cgroup_modify_cgroup(g.cg);
    if (rc != 0)
      return make_error("cannot write '" + value + "' to " + dir(controller, group).string() + "/" +
                        file + ": " + why(rc));
    return {};
  }

  Status remove_group(const std::string& controller, const std::string& group) override {
    std::error_code ec;
    if (!std::filesystem::exists(dir(controller, group), ec)) return {};
    std::lock_guard lock(g_mutex);
    Group g(group, controller);
    if (!g.ok()) return make_error("libcgroup cannot describe " + controller + ":" + group);
    // Never migrate tasks to the parent (they were killed); only an empty group is removed.
    int rc =
        cgroup_delete_cgroup_ext(g.cg, CGFLAG_DELETE_IGNORE_MIGRATION | CGFLAG_DELETE_EMPTY_ONLY);
    if (rc != 0 && std::filesystem::exists(dir(controller, group), ec)) {
      int err = rc == ECGOTHER ? cgroup_get_last_errno() : 0;
      return make_error("cannot remove cgroup " + dir(controller, group).string() + ": " +
                        (err == EBUSY || rc == ECGNONEMPTY ? std::string("busy") : why(rc)));
    }
    return {};
  }

  const char* name() const override { return "libcgroup"; }
};

}  // namespace

Result<std::unique_ptr<ControlFs>> make_libcgroup_fs(std::filesystem::path root,
                                                     ControlFs::Mounts mounts) {
  static int init_rc = cgroup_init();
  if (init_rc != 0) return make_error("libcgroup cannot initialise: " + why(init_rc));
  return std::unique_ptr<ControlFs>(
      std::make_unique<LibcgroupFs>(std::move(root), false, std::move(mounts)));
}

}  // namespace drover::cgroups
