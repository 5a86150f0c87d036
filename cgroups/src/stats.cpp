// Stats from control files. v1: memory.stat total_* (the group and its children),
// usage/max_usage_in_bytes, cpuacct.usage (ns) and cpuacct.stat (USER_HZ ticks), cpu.stat
// throttling. v2: memory.stat anon/file, memory.current/peak/swap.current, cpu.stat in µs.
// A file the host lacks leaves its fields at 0 and out of `measured`.
#include "stats.hpp"

#include <unistd.h>

#include "files.hpp"

namespace drover::cgroups {

namespace fs = std::filesystem;

namespace {

uint64_t ticks_to_ns(uint64_t ticks) {
  static const long hz = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
  return ticks * (1000000000ull / static_cast<uint64_t>(hz));
}

// A control file's text; nullopt when the controller is not used (empty dir) or the file is
// not there. One open, no stat first.
std::optional<std::string> text_of(const fs::path& dir, const char* file) {
  if (dir.empty()) return std::nullopt;
  auto r = read_file(dir / file);
  if (!r) return std::nullopt;
  return std::move(r.value());
}

// Sets `field` and names it in `measured` when the kernel reported `value`.
void measure(std::optional<uint64_t> value, uint64_t& field, std::vector<std::string>& measured,
             const char* name) {
  if (!value) return;
  field = *value;
  measured.push_back(name);
}

}  // namespace

Stats read_stats_v1(const fs::path& memory, const fs::path& cpuacct, const fs::path& cpu,
                    const fs::path& pids) {
  Stats s;
  if (auto text = text_of(memory, "memory.stat")) {
    auto m = parse_kv(*text);
    s.memory.rss = m["total_rss"];
    s.memory.cache = m["total_cache"];
    s.memory.measured = {"RSS", "Cache"};
    auto& mm = s.memory.measured;
    if (m.count("total_swap")) measure(m["total_swap"], s.memory.swap, mm, "Swap");
    measure(read_u64(memory / "memory.usage_in_bytes"), s.memory.usage, mm, "Usage");
    measure(read_u64(memory / "memory.max_usage_in_bytes"), s.memory.max_usage, mm, "Max Usage");
  }
  if (auto text = text_of(cpuacct, "cpuacct.stat")) {
    auto c = parse_kv(*text);
    s.cpu.user_ns = ticks_to_ns(c["user"]);
    s.cpu.system_ns = ticks_to_ns(c["system"]);
    s.cpu.total_ns = read_u64(cpuacct / "cpuacct.usage").value_or(s.cpu.user_ns + s.cpu.system_ns);
    s.cpu.measured = {"System Mode", "User Mode", "Percent"};
  }
  if (auto text = text_of(cpu, "cpu.stat")) {
    auto c = parse_kv(*text);
    s.cpu.throttled_periods = c["nr_throttled"];
    s.cpu.throttled_time_ns = c["throttled_time"];
    s.cpu.measured.push_back("Throttled Periods");
    s.cpu.measured.push_back("Throttled Time");
  }
  if (!pids.empty()) s.pids = read_u64(pids / "pids.current").value_or(0);
  return s;
}

Stats read_stats_v2(const fs::path& dir) {
  Stats s;
  if (auto text = text_of(dir, "memory.stat")) {
    auto m = parse_kv(*text);
    s.memory.rss = m["anon"];
    s.memory.cache = m["file"];
    s.memory.measured = {"RSS", "Cache"};
    auto& mm = s.memory.measured;
    measure(read_u64(dir / "memory.swap.current"), s.memory.swap, mm, "Swap");
    measure(read_u64(dir / "memory.current"), s.memory.usage, mm, "Usage");
    measure(read_u64(dir / "memory.peak"), s.memory.max_usage, mm, "Max Usage");  // kernel >= 5.19
  }
  if (auto text = text_of(dir, "cpu.stat")) {
    auto c = parse_kv(*text);
    s.cpu.total_ns = c["usage_usec"] * 1000;
    s.cpu.user_ns = c["user_usec"] * 1000;
    s.cpu.system_ns = c["system_usec"] * 1000;
    s.cpu.measured = {"System Mode", "User Mode", "Percent"};
    if (c.count("nr_throttled")) {  // present only with the cpu controller enabled
      s.cpu.throttled_periods = c["nr_throttled"];
      s.cpu.throttled_time_ns = c["throttled_usec"] * 1000;
      s.cpu.measured.push_back("Throttled Periods");
      s.cpu.measured.push_back("Throttled Time");
    }
  }
  s.pids = read_u64(dir / "pids.current").value_or(0);
  return s;
}

}  // namespace drover::cgroups
