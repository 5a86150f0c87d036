// Small helpers for reading cgroup control files: whole files, "key value" tables
// (memory.stat, cpu.stat, memory.events, memory.oom_control) and pid lists.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::cgroups {

Result<std::string> read_file(const std::filesystem::path& path);
// Writes `value` to an existing file (no O_CREAT: control files are never created).
Status write_file(const std::filesystem::path& path, const std::string& value);
// First line, trimmed, as an unsigned number ("max" and unreadable files give nothing).
std::optional<uint64_t> read_u64(const std::filesystem::path& path);
// "key value" lines; unparsable lines are skipped.
std::map<std::string, uint64_t> parse_kv(const std::string& text);
std::map<std::string, uint64_t> read_kv(const std::filesystem::path& path);
std::vector<pid_t> read_pids(const std::filesystem::path& procs_file);

}  // namespace drover::cgroups
