// Small helpers for reading cgroup control files: whole files, "key value" tables
// (memory.stat, cpu.stat, memory.events, memory.oom_control) and pid lists.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::cgroups {

Result<std::string> read_file(const std::filesystem::path& path);
// `name` relative to the directory fd `dirfd` (openat: no path above it is walked); AT_FDCWD
// reads a plain path. The error keeps errno's text.
Result<std::string> read_file_at(int dirfd, const char* name);
// The whole text of an open control file, read again from offset 0 (pread: the kernel
// regenerates a cgroup file's text on each read from 0).
Result<std::string> pread_whole(int fd);
// Writes `value` to an existing file (no O_CREAT: control files are never created).
Status write_file(const std::filesystem::path& path, const std::string& value);
// First line, trimmed, as an unsigned number ("max" and unreadable files give nothing).
std::optional<uint64_t> read_u64(const std::filesystem::path& path);
// "key value" lines; unparsable lines are skipped.
std::map<std::string, uint64_t> parse_kv(const std::string& text);
// The value of `key` in "key value" lines, without building a table (stats read a few keys
// of long files, for every task every second).
std::optional<uint64_t> kv_value(std::string_view text, std::string_view key);
// First line as an unsigned number, as read_u64 does, of text already read.
std::optional<uint64_t> parse_u64(const std::string& text);
std::map<std::string, uint64_t> read_kv(const std::filesystem::path& path);
std::vector<pid_t> read_pids(const std::filesystem::path& procs_file);
std::vector<pid_t> read_pids_at(int dirfd, const char* procs_file);

}  // namespace drover::cgroups
