// `drover alloc fs`: list a dir of an alloc, print one of its files, or stat a path, as
// Nomad's `alloc fs` does (GET /v1/client/fs/{stat,ls,cat}).
#pragma once

#include <cstdint>
#include <string>

#include "cli/command_context.hpp"

namespace drover::cli {

struct FsOptions {
  std::string alloc_id;  // full id or unique prefix
  std::string path = "/";
  bool stat = false;          // -stat: the path's own details, not its contents
  bool machine_sizes = false;  // -H: sizes in bytes
  // A file's end, as `nomad alloc fs` and `alloc logs` read it: -tail starts near the end (10
  // lines unless -n or -c), -f keeps printing what is appended.
  bool tail = false;
  std::int64_t lines = -1;
  std::int64_t bytes = -1;
  bool follow = false;
};

int alloc_fs(Context& ctx, const FsOptions& opts);

// "4.0 KiB", as Nomad's humanize.IBytes prints a size: B under 1024, else one decimal.
std::string human_size(std::int64_t bytes);

}  // namespace drover::cli
