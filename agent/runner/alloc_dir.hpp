// The alloc dir on disk (docs/nomad-compat.md, "Alloc dir and environment"):
//   <data_dir>/alloc/<alloc_id>/alloc/{data,logs,tmp}   shared by the group's tasks
//   <data_dir>/alloc/<alloc_id>/<task>/{local,secrets,tmp}
#pragma once

#include <filesystem>
#include <string>

#include "drover/common/result.hpp"

namespace drover::runner {

struct AllocDir {
  std::filesystem::path root;  // <data_dir>/alloc/<alloc_id>

  std::filesystem::path shared_dir() const { return root / "alloc"; }
  std::filesystem::path logs_dir() const { return root / "alloc" / "logs"; }
  std::filesystem::path task_dir(const std::string& task) const { return root / task; }
  std::filesystem::path local_dir(const std::string& task) const { return root / task / "local"; }
  std::filesystem::path secrets_dir(const std::string& task) const {
    return root / task / "secrets";
  }
  std::filesystem::path log_file(const std::string& task, const std::string& stream,
                                 int index = 0) const {
    return logs_dir() / (task + "." + stream + "." + std::to_string(index));
  }

  // Creates the shared dirs (idempotent). Modes: 0755 dirs, tmp 1777.
  Status build() const;
  // Creates one task's dirs (idempotent); secrets 0700. With `user` (a task that runs as
  // another user: exec's nobody, or the job's `user`), its local, secrets and tmp dirs are
  // that user's, so the task can write them.
  Status build_task(const std::string& task, const std::string& user = "") const;
  // Removes the whole alloc dir.
  Status destroy() const;
};

AllocDir alloc_dir_for(const std::filesystem::path& data_dir, const std::string& alloc_id);

}  // namespace drover::runner
