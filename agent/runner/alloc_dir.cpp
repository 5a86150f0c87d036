#include "runner/alloc_dir.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace drover::runner {
namespace {

// The process's umask, read once from /proc (umask(2) cannot read it without setting it,
// which would race with other threads creating files). The agent never changes it.
mode_t process_umask() {
  static const mode_t mask = [] {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Umask:", 0) == 0)
        return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8) & 0777);
    return static_cast<mode_t>(0777);  // unknown: always chmod
  }();
  return mask;
}

// mkdir that refuses to follow a symlink planted where a dir should be. A dir it made is
// its own (mkdir never follows a symlink in the last component) and needs a chmod only
// where the umask took bits off (the 01777 tmp dirs): two syscalls fewer per dir on the
// start path.
Status make_dir(const std::filesystem::path& p, mode_t mode) {
  if (::mkdir(p.c_str(), mode) == 0) {
    if ((mode & process_umask()) != 0) ::chmod(p.c_str(), mode);
    return {};
  }
  if (errno != EEXIST) return make_error("creating " + p.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(p.string() + " exists and is not a directory");
  ::chmod(p.c_str(), mode);  // mkdir's mode is masked by the umask
  return {};
}

}  // namespace

AllocDir alloc_dir_for(const std::filesystem::path& data_dir, const std::string& alloc_id) {
  return AllocDir{data_dir / "alloc" / alloc_id};
}

Status AllocDir::build() const {
  for (auto& [p, mode] : {std::pair{root.parent_path(), 0711}, {root, 0755}, {shared_dir(), 0755},
                          {shared_dir() / "data", 0755}, {logs_dir(), 0755},
                          {shared_dir() / "tmp", 01777}}) {
    if (auto st = make_dir(p, static_cast<mode_t>(mode)); !st) return st;
  }
  return {};
}

Status AllocDir::build_task(const std::string& task, const std::string& user) const {
  for (auto& [p, mode] : {std::pair{task_dir(task), 0755}, {local_dir(task), 0755},
                          {secrets_dir(task), 0700}, {task_dir(task) / "tmp", 01777}}) {
    if (auto st = make_dir(p, static_cast<mode_t>(mode)); !st) return st;
  }
  if (!user.empty() && user != "root") {
    struct passwd pw {}, *found = nullptr;
    char buf[4096];
    if (getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &found) != 0 || !found)
      return make_error("user \"" + user + "\" does not exist on this node");
    for (const auto& p : {local_dir(task), secrets_dir(task)})
      if (::lchown(p.c_str(), pw.pw_uid, pw.pw_gid) != 0)
        return make_error("chown " + p.string() + ": " + std::strerror(errno));
    // The group's shared data dir is written by tasks of any user (as in Nomad).
    ::chmod((shared_dir() / "data").c_str(), 0777);
  }
  return {};
}

Status AllocDir::destroy() const {
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  if (ec) return make_error("removing " + root.string() + ": " + ec.message());
  return {};
}

}  // namespace drover::runner
