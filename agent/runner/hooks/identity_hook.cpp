// The identity hook (runner/hooks/hooks.hpp): the task's workload identity token in
// secrets/nomad_token and NOMAD_TOKEN, as Nomad's `identity { file, env }`.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fs/beneath.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "vars/workload_identity.hpp"

namespace drover::runner {

Status IdentityHook::prestart(TaskHookContext& c) {
  const auto& job = c.alloc.job();
  vars::WorkloadClaims claims;
  // A dispatched or periodic child reads its parent's variables, as in Nomad.
  claims.job_id = job.parent_id.empty() ? job.id : job.parent_id;
  claims.ns = job.namespace_name;  // it reads its own namespace's variables
  claims.group = c.alloc.group().name;
  claims.task = c.task.name;
  claims.alloc_id = c.alloc.id();
  const std::string token = c.alloc.ctx().identity->sign(claims);
  if (c.task.identity->env) c.spec.env["NOMAD_TOKEN"] = token;
  if (!c.task.identity->file) return {};
  const auto secrets = c.alloc.dir().secrets_dir(c.task.name);
  // The task may have left anything in its secrets/ in an earlier run: never follow a link.
  auto dir = fs::open_beneath(secrets, ".", O_PATH | O_DIRECTORY);
  if (!dir) return make_error("identity: " + dir.message());
  struct stat owner {};
  if (::fstat(dir->get(), &owner) != 0)
    return make_error(std::string("identity: secrets/: ") + std::strerror(errno));
  (void)::unlinkat(dir->get(), "nomad_token", 0);
  auto fd =
      fs::open_beneath(secrets, "nomad_token", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0400);
  if (!fd) return make_error("identity: " + fd.message());
  // Readable by the task's user alone: secrets/ is theirs (task_dir_hook.cpp).
  if (::fchown(fd->get(), owner.st_uid, owner.st_gid) != 0)
    return make_error(std::string("identity: secrets/nomad_token: ") + std::strerror(errno));
  std::size_t done = 0;
  while (done < token.size()) {
    ssize_t n = ::write(fd->get(), token.data() + done, token.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error(std::string("identity: writing secrets/nomad_token: ") +
                        std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace drover::runner
