// The identity hook (runner/hooks/hooks.hpp): the task's workload identity token in
// secrets/nomad_token (or where `filepath` says) and NOMAD_TOKEN, as Nomad's
// `identity { file, env, filepath }`.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "drover/common/relative_path.hpp"
#include "fs/beneath.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "runner/hooks/template_files.hpp"
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
  // Readable by the task's user alone, as its secrets/ is (task_dir_hook.cpp): that dir's owner
  // owns the file. The task may have left anything there in an earlier run: no link followed.
  const auto secrets = c.alloc.dir().secrets_dir(c.task.name);
  auto dir = fs::open_beneath(secrets, ".", O_PATH | O_DIRECTORY);
  if (!dir) return make_error("identity: " + dir.message());
  struct stat owner {};
  if (::fstat(dir->get(), &owner) != 0)
    return make_error(std::string("identity: secrets/: ") + std::strerror(errno));
  // Where: secrets/nomad_token, or Nomad's filepath from the task dir, beneath it or the
  // alloc's shared dir (common/relative_path.hpp), as the validator checked it.
  std::filesystem::path root = c.alloc.dir().task_dir(c.task.name);
  std::string rel = "secrets/nomad_token";
  if (const auto& written = c.task.identity->filepath; !written.empty()) {
    auto placed = beneath_task_or_shared(c.task.name, task_dir_variables_as_relative(written));
    if (!placed) return make_error("identity: filepath " + placed.message(), Errc::Invalid);
    auto [top, rest] = top_dir_and_rest(*placed);
    if (rest == ".")
      return make_error("identity: filepath \"" + written + "\" names a dir", Errc::Invalid);
    root = c.alloc.dir().root / top;
    rel = std::move(rest);
  }
  if (auto st = write_beneath_atomically(root, rel, token, 0400, static_cast<int>(owner.st_uid),
                                         static_cast<int>(owner.st_gid));
      !st)
    return make_error("identity: " + st.message(), st.code());
  return {};
}

}  // namespace drover::runner
