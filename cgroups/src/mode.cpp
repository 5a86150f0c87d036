// Which cgroup mode the host is in, read from the layout under the root (libcgroup 2.0.2 has
// no call for it): a root with cgroup.controllers is v2; v1 hierarchies are directories with
// cgroup.procs and no cgroup.controllers; a v2 mount beside them makes the host hybrid.
// Where each v1 controller is mounted comes from mountinfo, once.
#include <algorithm>
#include <sstream>

#include "drover/cgroups/cgroups.hpp"
#include "files.hpp"
#include "mountinfo.hpp"

namespace drover::cgroups {

namespace fs = std::filesystem;

std::string to_string(Mode mode) {
  switch (mode) {
    case Mode::V1:
      return "v1";
    case Mode::V2:
      return "v2";
    case Mode::Hybrid:
      return "hybrid";
    case Mode::None:
      return "none";
  }
  return "none";
}

namespace {

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.insert(w);
  return out;
}

// Each controller's directory: the cgroup (v1) mount under `root` that carries it, else the
// directory the scan found it in (a fake tree).
void find_mounts(HostInfo& host, const std::map<std::string, fs::path>& scanned,
                 const fs::path& mountinfo) {
  auto mounts = read_mountinfo(mountinfo);
  for (const auto& c : host.controllers) {
    fs::path where = scanned.count(c) ? scanned.at(c) : host.root / c;
    for (const auto& m : mounts) {
      if (m.fstype != "cgroup" || !is_under(m.mount_point, host.root)) continue;
      auto opts = split_options(m.super_options);
      if (std::find(opts.begin(), opts.end(), c) != opts.end()) {
        where = m.mount_point;
        break;
      }
    }
    host.mounts[c] = where;
  }
}

}  // namespace

Result<HostInfo> detect(const fs::path& root, const fs::path& mountinfo) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return make_error("cgroup root " + root.string() + " is not a readable directory");
  HostInfo host;
  host.root = root;
  if (fs::exists(root / "cgroup.controllers", ec)) {
    host.mode = Mode::V2;
    auto text = read_file(root / "cgroup.controllers");
    if (!text) return make_error(text.message());
    host.controllers = words(*text);
    return host;
  }
  std::map<std::string, fs::path> scanned;  // a directory named after the controller wins
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory(ec)) continue;
    const fs::path dir = entry.path();
    if (fs::exists(dir / "cgroup.controllers", ec)) {
      host.unified = dir;
      continue;
    }
    std::string name = dir.filename().string();
    // Named hierarchies (name=systemd) hold no resource controller.
    if (!fs::exists(dir / "cgroup.procs", ec) || name == "systemd" || name.starts_with("name="))
      continue;
    // Co-mounted hierarchies ("cpu,cpuacct") are usually also linked by each name.
    std::istringstream parts(name);
    std::string part;
    while (std::getline(parts, part, ',')) {
      if (part.empty()) continue;
      host.controllers.insert(part);
      if (part == name || !scanned.count(part)) scanned[part] = dir;
    }
  }
  if (!host.controllers.empty()) {
    host.mode = host.unified.empty() ? Mode::V1 : Mode::Hybrid;
    find_mounts(host, scanned, mountinfo);
  } else if (!host.unified.empty()) {
    // Only a v2 mount below the root: treat it as a v2 host rooted there.
    host.mode = Mode::V2;
    host.root = host.unified;
    host.unified.clear();
    auto text = read_file(host.root / "cgroup.controllers");
    if (text) host.controllers = words(*text);
  }
  return host;
}

Status check_usable(const HostInfo& host) {
  if (host.mode == Mode::None)
    return make_error("no cgroup hierarchy found under " + host.root.string() +
                      ": memory and cpu controllers are missing; drover cannot limit tasks");
  std::string missing;
  for (const char* c : {"memory", "cpu"})
    if (!host.controllers.count(c)) missing += std::string(missing.empty() ? "" : " and ") + c;
  if (missing.empty()) return {};
  std::string where = host.mode == Mode::V2
                          ? "cgroup v2 at " + host.root.string() + " (cgroup.controllers)"
                          : "cgroup " + to_string(host.mode) + " under " + host.root.string();
  return make_error("no usable " + missing + " controller in " + where +
                    "; drover cannot limit tasks without them");
}

}  // namespace drover::cgroups
