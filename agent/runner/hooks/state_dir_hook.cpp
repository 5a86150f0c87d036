#include <filesystem>

#include "runner/hooks/hooks.hpp"

namespace drover::runner {

Status StateDirHook::prestart(TaskHookContext& c) {
  std::error_code ec;
  std::filesystem::path dir = c.spec.state_dir;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("creating the task's state dir " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return make_error("making " + dir.string() + " private: " + ec.message());
  return {};
}

}  // namespace drover::runner
