// The exec task's OCI config (see oci_spec.hpp). Defaults follow runc's `runc spec` and
// docs/threat-model.md, "Privileges and isolation": a fresh /dev, masked and read-only /proc
// paths, no new privileges, and only the default device nodes plus the task's reserved ones
// in the device cgroup.
#include "oci_spec.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace drover::exec {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json bind_mount(const std::string& src, const std::string& dst, bool ro, json extra = json::array()) {
  json opts = {"rbind", ro ? "ro" : "rw", "nosuid", "nodev"};
  for (auto& o : extra) opts.push_back(o);
  return {{"destination", dst}, {"type", "bind"}, {"source", src}, {"options", opts}};
}

json mount(const char* dst, const char* type, json opts) {
  return {{"destination", dst}, {"type", type}, {"source", type}, {"options", std::move(opts)}};
}

}  // namespace

json oci_config(const BundleSpec& s) {
  json mounts = json::array({
      mount("/proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
  });
  for (const auto& d : s.host_dirs) mounts.push_back(bind_mount(d, d, true));
  // Over the host's /etc: the group network's dns block (exec_driver.cpp writes the file).
  if (!s.resolv_conf.empty()) mounts.push_back(bind_mount(s.resolv_conf, "/etc/resolv.conf", true));
  if (!s.hosts_file.empty()) mounts.push_back(bind_mount(s.hosts_file, "/etc/hosts", true));
  mounts.push_back(bind_mount(s.alloc_dir, "/alloc", false));
  mounts.push_back(bind_mount(s.local_dir, "/local", false));
  if (s.secrets_dir.empty()) {
    mounts.push_back(mount("/secrets", "tmpfs", {"nosuid", "noexec", "nodev", "mode=0700", "size=1m"}));
    mounts.back()["options"].push_back("uid=" + std::to_string(s.uid));
    mounts.back()["options"].push_back("gid=" + std::to_string(s.gid));
  } else {
    mounts.push_back(bind_mount(s.secrets_dir, "/secrets", false, {"noexec"}));
  }
  mounts.push_back(mount("/tmp", "tmpfs", {"nosuid", "nodev", "mode=1777"}));
  for (const auto& m : s.mounts) mounts.push_back(bind_mount(m.host_path, m.container_path, m.read_only));

  json namespaces = json::array({{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "ipc"}}, {{"type", "uts"}}});
  // The alloc's namespace (bridge or none mode) wins over the task's own network_mode.
  if (!s.network_ns_path.empty())
    namespaces.push_back({{"type", "network"}, {"path", s.network_ns_path}});
  else if (s.network_none)
    namespaces.push_back({{"type", "network"}});

  // The device cgroup: deny all, then the reserved nodes (runc and crun add their default
  // nodes, null/zero/full/random/urandom/tty/ptmx, themselves).
  json dev_rules = json::array({{{"allow", false}, {"access", "rwm"}}});
  json dev_nodes = json::array();
  for (const auto& d : s.devices) {
    struct stat st{};
    if (stat(d.host_path.c_str(), &st) != 0)
      throw std::runtime_error("device " + d.host_path + ": " + std::strerror(errno));
    const char* type = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : nullptr;
    if (type == nullptr) throw std::runtime_error("device " + d.host_path + ": not a device node");
    const std::string path = d.container_path.empty() ? d.host_path : d.container_path;
    const std::string access = d.permissions.empty() ? "rwm" : d.permissions;
    dev_nodes.push_back({{"path", path}, {"type", type}, {"major", major(st.st_rdev)},
                         {"minor", minor(st.st_rdev)}, {"fileMode", st.st_mode & 0777}, {"uid", 0}, {"gid", 0}});
    dev_rules.push_back({{"allow", true}, {"type", type}, {"major", major(st.st_rdev)},
                         {"minor", minor(st.st_rdev)}, {"access", access}});
  }

  json linux = {
      {"namespaces", namespaces},
      {"devices", dev_nodes},
      {"resources", {{"devices", dev_rules}}},
      {"maskedPaths", {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                       "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                       "/proc/sched_debug", "/proc/scsi", "/sys/firmware"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  if (!s.cgroups_path.empty()) linux["cgroupsPath"] = s.cgroups_path;

  return {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", s.uid}, {"gid", s.gid}}},
        {"args", s.args},
        {"env", s.env},
        {"cwd", s.cwd},
        {"capabilities",
         {{"bounding", s.caps}, {"effective", s.caps}, {"permitted", s.caps},
          {"inheritable", json::array()}, {"ambient", json::array()}}},
        // No rlimits: root without CAP_SYS_RESOURCE could not raise them anyway, and the
        // host's limits are the ones a task has always had under raw_exec.
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", s.hostname},
      {"mounts", mounts},
      {"linux", linux},
  };
}

void write_bundle(const std::string& bundle_dir, const std::string& rootfs_dir, const BundleSpec& spec) {
  json config = oci_config(spec);
  config["root"]["path"] = rootfs_dir;
  std::error_code ec;
  const fs::path rootfs = rootfs_dir;
  fs::create_directories(bundle_dir, ec);
  if (ec) throw std::runtime_error("create " + bundle_dir + ": " + ec.message());
  fs::permissions(bundle_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  fs::create_directories(rootfs, ec);
  if (ec) throw std::runtime_error("create " + rootfs.string() + ": " + ec.message());
  // Mount points only: the root is read-only in the container and holds no file.
  for (const auto& m : config["mounts"]) {
    fs::path dst = rootfs / m["destination"].get<std::string>().substr(1);
    if (fs::exists(dst, ec)) continue;  // made by an earlier start
    if (m["type"] == "bind" && !fs::is_directory(m["source"].get<std::string>())) {
      fs::create_directories(dst.parent_path(), ec);
      std::ofstream touch(dst);  // a file bind needs a file to mount over
    } else {
      fs::create_directories(dst, ec);
    }
  }
  fs::permissions(rootfs, fs::perms(0755), fs::perm_options::replace, ec);
  const fs::path file = fs::path(bundle_dir) / "config.json";
  std::ofstream out(file, std::ios::trunc);
  out << config.dump(2);
  if (!out.flush()) throw std::runtime_error("write " + file.string() + " failed");
}

}  // namespace drover::exec
