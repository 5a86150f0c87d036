// Reading Stats from a task's control files through held directory fds, v1 and v2 (stats.cpp).
#pragma once

#include <filesystem>
#include <string>

#include "drover/cgroups/cgroups.hpp"

namespace drover::cgroups {

// The directories stats read, open (O_PATH). v1: the fd of each hierarchy the host uses, -1
// where absent, co-mounted ones sharing an fd; v2: the one directory in every field.
struct StatsReader::Dirs {
  bool v2 = false;
  std::string name;  // the cgroup's relative path, for messages
  int memory = -1, cpuacct = -1, cpu = -1, pids = -1;
  int procs = -1;  // whose cgroup.procs lists the pids: the pids hierarchy's, else memory's
  // Control files held open and read again with pread from offset 0 (the kernel regenerates
  // a cgroup file's text on each read from 0): an open costs 3-4 times the read itself.
  struct Held {
    int dir;
    const char* file;  // a literal
    int fd;
  };
  std::vector<Held> held;
  std::vector<int> owned;  // every fd above, closed once
  Dirs() = default;
  Dirs(const Dirs&) = delete;
  Dirs& operator=(const Dirs&) = delete;
  ~Dirs();
};

// Opens the directories of the task's group in each v1 hierarchy (an empty path: hierarchy
// absent), or its one v2 directory. Fails when the memory directory cannot be opened.
Result<std::shared_ptr<StatsReader::Dirs>> open_stats_dirs_v1(
    const std::string& name, const std::filesystem::path& memory,
    const std::filesystem::path& cpuacct, const std::filesystem::path& cpu,
    const std::filesystem::path& pids);
Result<std::shared_ptr<StatsReader::Dirs>> open_stats_dirs_v2(const std::string& name,
                                                              const std::filesystem::path& dir);

// Fails when the group's memory.stat is gone (the cgroup was removed). A file the host lacks
// leaves its fields at 0 and out of `measured`.
Result<Stats> read_stats(const StatsReader::Dirs& dirs);

// By path, for TaskCgroup::stats(): opens the directories, then read_stats; a group that
// cannot be opened reads as zeros.
Stats read_stats_v1(const std::filesystem::path& memory, const std::filesystem::path& cpuacct,
                    const std::filesystem::path& cpu, const std::filesystem::path& pids);
Stats read_stats_v2(const std::filesystem::path& dir);

}  // namespace drover::cgroups
