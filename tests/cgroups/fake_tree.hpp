// Fake cgroupfs trees in a temp dir, laid out like the kernel's v1 and v2 hierarchies, so the
// library's writes can be read back. A real cgroupfs creates control files on mkdir; here the
// test creates them (fake_v1_group / fake_v2_group), since the library never creates files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace drover::cgroups::fake {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void put(const std::filesystem::path& file, const std::string& text);
std::string slurp(const std::filesystem::path& file);  // "" when absent

// <root>/{cpu,cpuacct,cpuset,memory,pids,freezer,systemd} as v1 hierarchies (minus `skip`),
// plus <root>/unified (a v2 mount with no controllers) when `hybrid`.
void fake_v1_root(const std::filesystem::path& root, bool hybrid = false,
                  const std::vector<std::string>& skip = {});
// The control files of <root>/<controller>/<group> in each v1 hierarchy present.
void fake_v1_group(const std::filesystem::path& root, const std::string& group);
// A v2 root with `controllers` in cgroup.controllers.
void fake_v2_root(const std::filesystem::path& root, const std::string& controllers);
// The control files of a v2 group directory.
void fake_v2_group(const std::filesystem::path& dir, const std::string& controllers);

}  // namespace drover::cgroups::fake
