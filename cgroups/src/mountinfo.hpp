// /proc/self/mountinfo, read once at agent start: where each v1 controller is mounted
// (co-mounted ones share a directory) and which options the cgroup2 mount carries.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace drover::cgroups {

struct MountEntry {
  std::filesystem::path mount_point;  // octal escapes (\040 for a space) undone
  std::string mount_options;          // per mount: "rw,nosuid,nodev,relatime"
  std::string fstype;                 // "cgroup", "cgroup2", ...
  std::string super_options;          // per filesystem: "rw,cpu,cpuacct", "rw,nsdelegate"
};

// Lines that cannot be parsed are skipped.
std::vector<MountEntry> parse_mountinfo(const std::string& text);
// Empty when the file cannot be read (a fake tree's tests pass a path of their own).
std::vector<MountEntry> read_mountinfo(const std::filesystem::path& file);
// The comma-separated options of `options` without "rw"/"ro".
std::vector<std::string> split_options(const std::string& options);
// Whether `path` is `root` or below it.
bool is_under(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace drover::cgroups
