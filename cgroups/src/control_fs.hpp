// ControlFs: the few operations drover performs on a cgroup hierarchy (mkdir, write a control
// file, rmdir), with two implementations: libcgroup on the real v1 host, plain files for v2
// and for fake trees in tests (libcgroup reads the real /proc/mounts in cgroup_init(), so it
// cannot be pointed at a temporary directory). Reads are always plain file reads.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "drover/common/result.hpp"

namespace drover::cgroups {

class ControlFs {
 public:
  // `unified`: v2 layout (root/group) instead of v1 (root/controller/group).
  ControlFs(std::filesystem::path root, bool unified) : root_(std::move(root)), unified_(unified) {}
  virtual ~ControlFs() = default;

  // The directory of `group` in `controller` (controller ignored on v2).
  std::filesystem::path dir(const std::string& controller, const std::string& group) const {
    return unified_ ? root_ / group : root_ / controller / group;
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
};

std::unique_ptr<ControlFs> make_plain_fs(std::filesystem::path root, bool unified);
// Fails when libcgroup cannot initialise (no cgroup mounts it understands).
Result<std::unique_ptr<ControlFs>> make_libcgroup_fs(std::filesystem::path root);

}  // namespace drover::cgroups
