// Reading Stats from a task's control files, v1 and v2 (stats.cpp).
#pragma once

#include <filesystem>

#include "drover/cgroups/cgroups.hpp"

namespace drover::cgroups {

// Directories of the task's group in each v1 hierarchy; an empty path = hierarchy absent.
Stats read_stats_v1(const std::filesystem::path& memory, const std::filesystem::path& cpuacct,
                    const std::filesystem::path& cpu, const std::filesystem::path& pids);
Stats read_stats_v2(const std::filesystem::path& dir);

}  // namespace drover::cgroups
