// ControlFs on plain files: mkdir, one open+write(2)+close per control file, rmdir. The
// default on every host (docs/cgroups.md says why libcgroup is not) and for fake trees.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control_fs.hpp"
#include "files.hpp"

namespace drover::cgroups {
namespace {

class PlainFs final : public ControlFs {
 public:
  using ControlFs::ControlFs;

  Status make_group(const std::string& controller, const std::string& group) override {
    auto path = dir(controller, group);
    if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return {};
    return make_error("cannot create cgroup " + path.string() + ": " + std::strerror(errno));
  }

  Status write(const std::string& controller, const std::string& group, const std::string& file,
               const std::string& value) override {
    return write_file(dir(controller, group) / file, value);
  }

  Status remove_group(const std::string& controller, const std::string& group) override {
    auto path = dir(controller, group);
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
    if (errno == ENOTEMPTY) {
      // A real cgroupfs ignores control files on rmdir; a fake tree in a temp dir holds
      // regular files. Unlinking fails harmlessly (EPERM) on a real cgroupfs.
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(path, ec))
        if (entry.is_regular_file(ec)) std::filesystem::remove(entry.path(), ec);
      if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
    }
    const char* why = errno == EBUSY ? "busy" : std::strerror(errno);
    return make_error("cannot remove cgroup " + path.string() + ": " + why);
  }

  const char* name() const override { return "plain files"; }
};

}  // namespace

std::unique_ptr<ControlFs> make_plain_fs(std::filesystem::path root, bool unified,
                                         ControlFs::Mounts mounts) {
  return std::make_unique<PlainFs>(std::move(root), unified, std::move(mounts));
}

}  // namespace drover::cgroups
