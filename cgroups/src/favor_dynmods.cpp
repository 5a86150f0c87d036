// cgroup2's favordynmods mount option (kernel >= 6.0), read from mountinfo and switched by
// reconfiguring the cgroup2 superblock in place (fspick + fsconfig): the mount's own flags
// (nosuid, nodev, noexec) are untouched, and its other filesystem options (nsdelegate,
// memory_recursiveprot, ...) are passed again, since a cgroup2 reconfigure resets every
// option it is not given. See docs/cgroups.md for what the option trades.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "drover/cgroups/cgroups.hpp"
#include "mountinfo.hpp"

namespace drover::cgroups {

namespace fs = std::filesystem;

namespace {

constexpr const char* kOption = "favordynmods";

// The cgroup2 mount drover's host uses: the v2 root, or the hybrid unified mount.
std::optional<MountEntry> cgroup2_mount(const HostInfo& host, const fs::path& mountinfo) {
  fs::path want = host.mode == Mode::V2 ? host.root : host.unified;
  if (want.empty()) return std::nullopt;
  for (const auto& m : read_mountinfo(mountinfo))
    if (m.fstype == "cgroup2" && m.mount_point.lexically_normal() == want.lexically_normal())
      return m;
  return std::nullopt;
}

bool has_option(const MountEntry& m) {
  auto opts = split_options(m.super_options);
  return std::find(opts.begin(), opts.end(), kOption) != opts.end();
}

}  // namespace

DynmodsState favor_dynmods_state(const HostInfo& host, const fs::path& mountinfo) {
  DynmodsState s;
  if (auto m = cgroup2_mount(host, mountinfo)) {
    s.mount = m->mount_point;
    s.on = has_option(*m);
  }
  return s;
}

Status set_favor_dynmods(const HostInfo& host, bool on, const fs::path& mountinfo) {
  auto m = cgroup2_mount(host, mountinfo);
  if (!m)
    return make_error(std::string("no cgroup2 mount on this ") + to_string(host.mode) +
                      " host under " + host.root.string() + " to set " + kOption + " on");
  if (has_option(*m) == on) return {};
  int fd = ::fspick(AT_FDCWD, m->mount_point.c_str(), FSPICK_CLOEXEC);
  if (fd < 0)
    return make_error("cannot reconfigure " + m->mount_point.string() +
                      ": fspick: " + std::strerror(errno));
  auto fail = [&](const std::string& what) {
    int err = errno;
    ::close(fd);
    std::string why = std::strerror(err);
    if (err == EINVAL && what == kOption)
      why += " (the kernel has no such option: it needs 6.0 or later)";
    return make_error("cannot reconfigure cgroup2 at " + m->mount_point.string() + " with " + what +
                      ": " + why);
  };
  for (const auto& opt : split_options(m->super_options)) {
    if (opt == kOption) continue;
    auto eq = opt.find('=');
    int r = eq == std::string::npos ? ::fsconfig(fd, FSCONFIG_SET_FLAG, opt.c_str(), nullptr, 0)
                                    : ::fsconfig(fd, FSCONFIG_SET_STRING, opt.substr(0, eq).c_str(),
                                                 opt.substr(eq + 1).c_str(), 0);
    if (r != 0) return fail(opt);
  }
  if (on && ::fsconfig(fd, FSCONFIG_SET_FLAG, kOption, nullptr, 0) != 0) return fail(kOption);
  if (::fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, nullptr, nullptr, 0) != 0)
    return fail(on ? std::string(kOption) : std::string("no ") + kOption);
  ::close(fd);
  return {};
}

}  // namespace drover::cgroups
