// Stats from control files, read relative to the task cgroup's directory fds (openat): v1
// memory.stat total_* (the group and its children), usage/max_usage_in_bytes, cpuacct.usage
// (ns) and cpuacct.stat (USER_HZ ticks), cpu.stat throttling. v2: memory.stat anon/file,
// memory.current/peak/swap.current, cpu.stat in µs. The collector's reads skip what cannot
// have changed since the last (read_since).
// A file the host lacks leaves its fields at 0 and out of `measured`.
#include "stats.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>

#include "control_fs.hpp"
#include "files.hpp"

namespace drover::cgroups {

namespace fs = std::filesystem;

StatsReader::Dirs::~Dirs() {
  for (int fd : owned) ::close(fd);
}

namespace {

uint64_t ticks_to_ns(uint64_t ticks) {
  static const long hz = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
  return ticks * (1000000000ull / static_cast<uint64_t>(hz));
}

// A control file's text; nullopt when the hierarchy is not used (fd -1) or the file is not
// there (or no longer: a removed cgroup's held files fail with ENODEV). A held file is one
// pread; any other one openat (no stat first).
std::optional<std::string> text_at(const StatsReader::Dirs& d, int dirfd, const char* file) {
  if (dirfd < 0) return std::nullopt;
  for (const auto& h : d.held) {
    if (h.dir != dirfd || std::strcmp(h.file, file) != 0) continue;
    auto text = pread_whole(h.fd);
    if (!text) return std::nullopt;
    return std::move(text.value());
  }
  auto r = read_file_at(dirfd, file);
  if (!r) return std::nullopt;
  return std::move(r.value());
}

std::optional<uint64_t> u64_at(const StatsReader::Dirs& d, int dirfd, const char* file) {
  auto text = text_at(d, dirfd, file);
  return text ? parse_u64(*text) : std::nullopt;
}

// Opens `file` of `dirfd` to be read again with pread; a file the host lacks is read (and
// missed) through openat as before.
void hold(StatsReader::Dirs& d, int dirfd, const char* file) {
  if (dirfd < 0) return;
  int fd = ::openat(dirfd, file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  d.held.push_back({dirfd, file, fd});
  d.owned.push_back(fd);
}

// Sets `field` and names it in `measured` when the kernel reported `value`.
void measure(std::optional<uint64_t> value, uint64_t& field, std::vector<std::string>& measured,
             const char* name) {
  if (!value) return;
  field = *value;
  measured.push_back(name);
}

// Opens `dir` (O_PATH: only a handle to read relative to) into `dirs`, sharing the fd of a
// directory already open there (co-mounted v1 hierarchies). -1 for an empty path.
Result<int> open_dir(StatsReader::Dirs& dirs, const fs::path& dir,
                     std::vector<std::pair<dev_t, ino_t>>& seen) {
  if (dir.empty()) return -1;
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open " + dir.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    auto key = std::make_pair(st.st_dev, st.st_ino);
    auto it = std::find(seen.begin(), seen.end(), key);
    if (it != seen.end()) {
      ::close(fd);
      return dirs.owned[static_cast<size_t>(it - seen.begin())];
    }
    seen.push_back(key);
  } else {
    seen.emplace_back(0, 0);
  }
  dirs.owned.push_back(fd);
  return fd;
}

Result<Stats> gone(const StatsReader::Dirs& dirs) {
  return make_error("task cgroup " + dirs.name + " is gone");
}

// Where each version keeps the memory figures: memory.stat keys, then files of their own.
struct MemoryFiles {
  const char* rss;
  const char* cache;
  const char* swap_key;   // in memory.stat (v1), or
  const char* swap_file;  // a file of its own (v2)
  const char* usage;
  const char* max_usage;
};
constexpr MemoryFiles kV1Memory{"total_rss", "total_cache", "total_swap", nullptr,
                                "memory.usage_in_bytes", "memory.max_usage_in_bytes"};
// memory.peak: kernel >= 5.19.
constexpr MemoryFiles kV2Memory{"anon", "file", nullptr, "memory.swap.current", "memory.current",
                                "memory.peak"};

// Stats with the memory figures read; an error when memory.stat is gone (the cgroup was
// removed).
Result<Stats> with_memory(const StatsReader::Dirs& d, const MemoryFiles& f) {
  auto text = text_at(d, d.memory, "memory.stat");
  if (!text) return gone(d);
  Stats s;
  MemoryStats& m = s.memory;
  m.rss = kv_value(*text, f.rss).value_or(0);
  m.cache = kv_value(*text, f.cache).value_or(0);
  m.measured = {"RSS", "Cache"};
  measure(f.swap_key ? kv_value(*text, f.swap_key) : u64_at(d, d.memory, f.swap_file), m.swap,
          m.measured, "Swap");
  measure(u64_at(d, d.memory, f.usage), m.usage, m.measured, "Usage");
  measure(u64_at(d, d.memory, f.max_usage), m.max_usage, m.measured, "Max Usage");
  return s;
}

// The cpu figures each version reads from its own files, in nanoseconds.
void set_cpu_times(CpuStats& c, uint64_t user_ns, uint64_t system_ns, uint64_t total_ns) {
  c.user_ns = user_ns;
  c.system_ns = system_ns;
  c.total_ns = total_ns;
  c.measured = {"System Mode", "User Mode", "Percent"};
}

void set_throttling(CpuStats& c, uint64_t periods, uint64_t time_ns) {
  c.throttled_periods = periods;
  c.throttled_time_ns = time_ns;
  c.measured.push_back("Throttled Periods");
  c.measured.push_back("Throttled Time");
}

// v1's cpu figures and pids; `usage_ns` is cpuacct.usage when the caller has read it already.
void cpu_v1(const StatsReader::Dirs& d, Stats& s, std::optional<uint64_t> usage_ns) {
  if (auto cpu = text_at(d, d.cpuacct, "cpuacct.stat")) {
    const uint64_t user = ticks_to_ns(kv_value(*cpu, "user").value_or(0));
    const uint64_t system = ticks_to_ns(kv_value(*cpu, "system").value_or(0));
    if (!usage_ns) usage_ns = u64_at(d, d.cpuacct, "cpuacct.usage");
    set_cpu_times(s.cpu, user, system, usage_ns.value_or(user + system));
  }
  if (auto cpu = text_at(d, d.cpu, "cpu.stat"))
    set_throttling(s.cpu, kv_value(*cpu, "nr_throttled").value_or(0),
                   kv_value(*cpu, "throttled_time").value_or(0));
  if (d.pids >= 0) s.pids = u64_at(d, d.pids, "pids.current").value_or(0);
}

// v2's cpu figures from cpu.stat's text.
void cpu_v2(const std::string& cpu, Stats& s) {
  set_cpu_times(s.cpu, kv_value(cpu, "user_usec").value_or(0) * 1000,
                kv_value(cpu, "system_usec").value_or(0) * 1000,
                kv_value(cpu, "usage_usec").value_or(0) * 1000);
  if (auto throttled = kv_value(cpu, "nr_throttled"))  // only with the cpu controller on
    set_throttling(s.cpu, *throttled, kv_value(cpu, "throttled_usec").value_or(0) * 1000);
}

Result<Stats> read_v1(const StatsReader::Dirs& d) {
  auto s = with_memory(d, kV1Memory);
  if (s) cpu_v1(d, *s, std::nullopt);
  return s;
}

Result<Stats> read_v2(const StatsReader::Dirs& d) {
  auto s = with_memory(d, kV2Memory);
  if (!s) return s;
  if (auto cpu = text_at(d, d.cpu, "cpu.stat")) cpu_v2(*cpu, *s);
  s->pids = u64_at(d, d.pids, "pids.current").value_or(0);
  return s;
}

// How long a memory.stat breakdown stands while the memory usage does not move. The usage is
// charged in batches (64 pages per CPU), so RSS and cache can shift a little under an
// unchanged usage; every 10 s they are read again whatever the usage says.
constexpr auto kMemoryStatReuse = std::chrono::seconds(10);

// read_stats, re-reading only what can have changed since `last` (docs/cgroups.md, "Stats").
// CPU: a task that used no CPU time ran nothing, so neither forked, exited nor was throttled:
// its cpu figures and pids stand. Memory: usage can change without the task running
// (reclaim), so it is read every time, and memory.stat (the costly file: hundreds of bytes of
// text, made anew by the kernel) only when usage moved or its breakdown is old.
Result<Stats> read_since(const StatsReader::Dirs& d, StatsReader::Since& since) {
  const auto now = std::chrono::steady_clock::now();
  const MemoryFiles& f = d.v2 ? kV2Memory : kV1Memory;
  const Stats* last = since.last ? &*since.last : nullptr;
  auto usage = last ? u64_at(d, d.memory, f.usage) : std::nullopt;
  Result<Stats> s = Stats{};
  if (last && usage && *usage == last->memory.usage && now - since.memory_stat_at < kMemoryStatReuse) {
    s->memory = last->memory;
    if (auto max = u64_at(d, d.memory, f.max_usage)) s->memory.max_usage = *max;
  } else {
    s = with_memory(d, f);  // reads usage again: it moved, or this is the first read
    if (!s) {
      since.last.reset();
      return s;
    }
    since.memory_stat_at = now;
  }
  auto unchanged_cpu = [&](uint64_t total_ns) {
    return last && !last->cpu.measured.empty() && total_ns == last->cpu.total_ns;
  };
  if (d.v2) {
    if (auto cpu = text_at(d, d.cpu, "cpu.stat")) {
      cpu_v2(*cpu, *s);
      s->pids = unchanged_cpu(s->cpu.total_ns) ? last->pids
                                               : u64_at(d, d.pids, "pids.current").value_or(0);
    } else {
      s->pids = u64_at(d, d.pids, "pids.current").value_or(0);
    }
  } else {
    auto total = u64_at(d, d.cpuacct, "cpuacct.usage");
    if (total && unchanged_cpu(*total)) {
      s->cpu = last->cpu;
      s->pids = last->pids;
    } else {
      cpu_v1(d, *s, total);
    }
  }
  since.last = *s;
  return s;
}

}  // namespace

Result<std::shared_ptr<StatsReader::Dirs>> open_stats_dirs_v1(const std::string& name,
                                                              const fs::path& memory,
                                                              const fs::path& cpuacct,
                                                              const fs::path& cpu,
                                                              const fs::path& pids) {
  auto d = std::make_shared<StatsReader::Dirs>();
  d->name = name;
  std::vector<std::pair<dev_t, ino_t>> seen;
  auto mem = open_dir(*d, memory, seen);
  if (!mem) return make_error("task cgroup " + name + " does not exist (" + mem.message() + ")");
  d->memory = *mem;
  // A hierarchy whose directory is missing reads as absent, as its files would.
  auto optional_dir = [&](const fs::path& dir) {
    auto fd = open_dir(*d, dir, seen);
    return fd ? *fd : -1;
  };
  d->cpuacct = optional_dir(cpuacct);
  d->cpu = optional_dir(cpu);
  d->pids = optional_dir(pids);
  d->procs = d->pids >= 0 ? d->pids : d->memory;
  // A held memory.stat fails with ENODEV once the cgroup is removed: that is how a read
  // learns the cgroup is gone. cgroup.procs stays openat per read: v1 caches the pid list of
  // an open file and serves it again to a read from 0 within a second of the last one.
  for (const char* f : {"memory.stat", "memory.usage_in_bytes", "memory.max_usage_in_bytes"})
    hold(*d, d->memory, f);
  for (const char* f : {"cpuacct.stat", "cpuacct.usage"}) hold(*d, d->cpuacct, f);
  hold(*d, d->cpu, "cpu.stat");
  hold(*d, d->pids, "pids.current");
  return d;
}

Result<std::shared_ptr<StatsReader::Dirs>> open_stats_dirs_v2(const std::string& name,
                                                              const fs::path& dir) {
  auto d = std::make_shared<StatsReader::Dirs>();
  d->name = name;
  d->v2 = true;
  std::vector<std::pair<dev_t, ino_t>> seen;
  auto fd = open_dir(*d, dir, seen);
  if (!fd) return make_error("task cgroup " + name + " does not exist (" + fd.message() + ")");
  d->memory = d->cpuacct = d->cpu = d->pids = d->procs = *fd;
  for (const char* f : {"memory.stat", "memory.swap.current", "memory.current", "memory.peak",
                        "cpu.stat", "pids.current"})
    hold(*d, *fd, f);
  return d;
}

Result<Stats> read_stats(const StatsReader::Dirs& dirs) {
  return dirs.v2 ? read_v2(dirs) : read_v1(dirs);
}

Stats read_stats_v1(const fs::path& memory, const fs::path& cpuacct, const fs::path& cpu,
                    const fs::path& pids) {
  auto dirs = open_stats_dirs_v1(memory.string(), memory, cpuacct, cpu, pids);
  if (!dirs) return {};
  auto s = read_stats(**dirs);
  return s ? std::move(*s) : Stats{};
}

Stats read_stats_v2(const fs::path& dir) {
  auto dirs = open_stats_dirs_v2(dir.string(), dir);
  if (!dirs) return {};
  auto s = read_stats(**dirs);
  return s ? std::move(*s) : Stats{};
}

Result<StatsReader> StatsReader::open(const Manager& manager, const std::string& name) {
  const HostInfo& host = manager.host();
  const std::string rel = manager.find(name).relative_path();
  if (host.mode == Mode::V2) {
    auto d = open_stats_dirs_v2(rel, host.root / rel);
    if (!d) return make_error(d.message());
    return StatsReader(std::move(*d));
  }
  auto dir = [&](const char* c) {
    return host.controllers.count(c) ? controller_mount(host.root, host.mounts, c) / rel : fs::path();
  };
  auto d = open_stats_dirs_v1(rel, dir("memory"), dir("cpuacct"), dir("cpu"), dir("pids"));
  if (!d) return make_error(d.message());
  return StatsReader(std::move(*d));
}

Result<Stats> StatsReader::read() const { return read_stats(*dirs_); }

Result<Stats> StatsReader::read(Since& since) const { return read_since(*dirs_, since); }

std::vector<pid_t> StatsReader::pids() const {
  auto p = read_pids_at(dirs_->procs, "cgroup.procs");
  std::sort(p.begin(), p.end());
  return p;
}

}  // namespace drover::cgroups
