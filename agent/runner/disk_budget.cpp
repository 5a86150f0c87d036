// Alloc dir disk usage (disk_budget.hpp).
#include "runner/disk_budget.hpp"

#include <ftw.h>
#include <sys/stat.h>

namespace drover::runner {

namespace {

// nftw takes a plain function: the running total lives in a thread-local, one walk per thread
// at a time.
thread_local std::uint64_t walk_total = 0;

int add_entry(const char*, const struct stat* st, int type, struct FTW*) {
  if (type != FTW_NS) walk_total += static_cast<std::uint64_t>(st->st_blocks) * 512;
  return 0;
}

}  // namespace

std::uint64_t disk_usage_bytes(const std::filesystem::path& root) {
  walk_total = 0;
  // FTW_PHYS: symlinks are not followed; FTW_MOUNT: other filesystems are not entered.
  if (::nftw(root.c_str(), add_entry, 32, FTW_PHYS | FTW_MOUNT) != 0) return walk_total;
  return walk_total;
}

}  // namespace drover::runner
