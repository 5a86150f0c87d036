// Sticky ephemeral disks (sticky_disk.hpp).
#include "runner/sticky_disk.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace drover::runner {

namespace {

namespace stdfs = std::filesystem;

// rename(2) replaces an empty directory; a target the new alloc already wrote to is kept and
// the move is refused, so nothing is lost.
Status move_dir(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  if (!stdfs::is_directory(stdfs::symlink_status(from, ec))) return {};
  stdfs::create_directories(to.parent_path(), ec);
  if (std::rename(from.c_str(), to.c_str()) != 0)
    return make_error("moving " + from.string() + " to " + to.string() + ": " +
                      std::strerror(errno));
  return {};
}

}  // namespace

Status move_sticky_data(const AllocDir& from, const AllocDir& to,
                        const std::vector<std::string>& tasks) {
  if (auto st = move_dir(from.shared_dir() / "data", to.shared_dir() / "data"); !st) return st;
  for (const auto& t : tasks)
    if (auto st = move_dir(from.local_dir(t), to.local_dir(t)); !st) return st;
  return {};
}

}  // namespace drover::runner
