// Which cgroup mode the host is in, read from the layout under the root (libcgroup 2.0.2 has
// no call for it): a root with cgroup.controllers is v2; v1 hierarchies are directories with
// cgroup.procs and no cgroup.controllers; a v2 mount beside them makes the host hybrid.
#include <sstream>

#include "drover/cgroups/cgroups.hpp"
#include "files.hpp"

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

}  // namespace

Result<HostInfo> detect(const fs::path& root) {
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
    while (std::getline(parts, part, ','))
      if (!part.empty()) host.controllers.insert(part);
  }
  if (!host.controllers.empty())
    host.mode = host.unified.empty() ? Mode::V1 : Mode::Hybrid;
  else if (!host.unified.empty()) {
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
