// ControlFs: the few operations drover performs on a cgroup hierarchy (mkdir, write a control
// file, rmdir), with two implementations: plain files (the default: v1, v2, fake trees in
// tests) and libcgroup (v1 only, when the agent asks for it; libcgroup reads the real
// /proc/mounts, so it cannot be pointed at a temporary directory). Reads are always plain.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "drover/common/result.hpp"

namespace drover::cgroups {

// Where v1 `controller` is mounted: `mounts` (HostInfo::mounts), else <root>/<controller>.
inline std::filesystem::path controller_mount(
    const std::filesystem::path& root, const std::map<std::string, std::filesystem::path>& mounts,
    const std::string& controller) {
  auto it = mounts.find(controller);
  return it != mounts.end() ? it->second : root / controller;
}

class ControlFs {
 public:
  using Mounts = std::map<std::string, std::filesystem::path>;
  // `unified`: v2 layout (root/group) instead of v1 (mount of controller/group); `mounts`
  // (HostInfo::mounts) says where each v1 controller is, <root>/<controller> when absent.
  ControlFs(std::filesystem::path root, bool unified, Mounts mounts = {})
      : root_(std::move(root)), unified_(unified), mounts_(std::move(mounts)) {}
  virtual ~ControlFs() = default;

  // The directory of `group` in `controller` (controller ignored on v2).
  std::filesystem::path dir(const std::string& controller, const std::string& group) const {
    if (unified_) return root_ / group;
    return controller_mount(root_, mounts_, controller) / group;
  }
  const std::filesystem::path& root() const { return root_; }

  // Creating an existing group succeeds.
  virtual Status make_group(const std::string& controller, const std::string& group) = 0;
  virtual Status write(const std::string& controller, const std::string& group,
                       const std::string& file, const std::string& value) = 0;
  // Removing a group that is not there succeeds; a busy group fails with "busy" in the
  // message so callers can retry.
  virtual Status remove_group(const std::string& controller, const std::string& group) = 0;
  virtual const char* name() const = 0;

 protected:
  std::filesystem::path root_;
  bool unified_;
  Mounts mounts_;
};

std::unique_ptr<ControlFs> make_plain_fs(std::filesystem::path root, bool unified,
                                         ControlFs::Mounts mounts = {});
// Fails when libcgroup cannot initialise (no cgroup mounts it understands).
Result<std::unique_ptr<ControlFs>> make_libcgroup_fs(std::filesystem::path root,
                                                     ControlFs::Mounts mounts);

}  // namespace drover::cgroups
