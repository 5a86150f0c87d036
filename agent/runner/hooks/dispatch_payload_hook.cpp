// The dispatch payload hook (runner/hooks/hooks.hpp): a dispatched job's payload in the task's
// local/.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fs/beneath.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

Status DispatchPayloadHook::prestart(TaskHookContext& c) {
  const std::string& payload = c.alloc.job().payload;
  // As in Nomad: no payload, no file.
  if (!c.task.dispatch_payload || payload.empty()) return {};
  const std::string& file = c.task.dispatch_payload->file;
  const auto local = c.alloc.dir().local_dir(c.task.name);
  // Parent dirs inside local/, each created from its parent's descriptor: the task may have
  // planted symlinks there in an earlier run.
  for (auto slash = file.find('/'); slash != std::string::npos; slash = file.find('/', slash + 1)) {
    const std::string dir = file.substr(0, slash);
    auto sep = dir.rfind('/');
    const std::string parent = sep == std::string::npos ? "." : dir.substr(0, sep);
    const std::string name = sep == std::string::npos ? dir : dir.substr(sep + 1);
    auto pfd = fs::open_beneath(local, parent, O_PATH | O_DIRECTORY);
    if (!pfd) return make_error("dispatch_payload: " + pfd.message());
    if (::mkdirat(pfd->get(), name.c_str(), 0755) != 0 && errno != EEXIST)
      return make_error("dispatch_payload: cannot create local/" + dir + ": " +
                        std::strerror(errno));
  }
  auto fd = fs::open_beneath(local, file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
  if (!fd) return make_error("dispatch_payload: " + fd.message());
  std::size_t done = 0;
  while (done < payload.size()) {
    ssize_t n = ::write(fd->get(), payload.data() + done, payload.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error("dispatch_payload: writing local/" + file + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace drover::runner
