// An alloc's disk budget (jobspec::EphemeralDisk::size_mb, docs/jobspec.md, "volumes"): the
// GC loop measures each live alloc's dir and fails an alloc that outgrew its budget, as
// Nomad's client once did with "Disk Resources Exceeded".
#pragma once

#include <cstdint>
#include <filesystem>

namespace drover::runner {

// Bytes the files below `root` take on disk (allocated blocks, so a sparse file counts what it
// uses), without following symlinks or crossing into other filesystems (a bind mount inside a
// task's dir is not the alloc's). 0 when `root` does not exist.
std::uint64_t disk_usage_bytes(const std::filesystem::path& root);

}  // namespace drover::runner
