#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "runner/hooks/hooks.hpp"

namespace drover::runner {

// Makes the task's runtime dir, private (0700) from <runtime_dir>/tasks down: no other user may
// plant a socket or a pid file there. The state dir on the data dir is left to whoever writes
// there first (docs/plugins.md, "A task's dirs"): raw_exec and exec never do, and a mkdir on
// the data dir's filesystem is a journal write on the start path.
Status StateDirHook::prestart(TaskHookContext& c) {
  const std::filesystem::path dir = c.spec.runtime_dir;
  if (dir.empty()) return {};
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return {};  // a restart: it is there
  if (errno != ENOENT)
    return make_error("creating the task's runtime dir " + dir.string() + ": " + std::strerror(errno));
  // The alloc's first task: its parents first.
  std::error_code ec;
  const auto tasks = dir.parent_path().parent_path();
  std::filesystem::create_directories(tasks.parent_path(), ec);
  if (ec) return make_error("creating the runtime dir " + tasks.parent_path().string() + ": " + ec.message());
  for (const auto& d : {tasks, dir.parent_path(), dir})
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST)
      return make_error("creating the task's runtime dir " + d.string() + ": " + std::strerror(errno));
  return {};
}

}  // namespace drover::runner
