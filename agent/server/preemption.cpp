// Choosing allocs to preempt; see preemption.hpp.
#include "server/preemption.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace drover::server {

namespace {

constexpr double kMaxParallelPenalty = 50.0;  // Nomad's maxParallelPenalty

// Nomad's basicResourceDistance: how far an alloc's resources are from what is asked (0 when
// equal), over the dimensions asked for.
double distance(int ask_cpu, int ask_mem, const Resident& r) {
  double cpu = ask_cpu > 0 ? double(ask_cpu - r.cpu_mhz) / ask_cpu : 0.0;
  double mem = ask_mem > 0 ? double(ask_mem - r.memory_mb) / ask_mem : 0.0;
  return std::sqrt(cpu * cpu + mem * mem);
}

bool fits(int free_cpu, int free_mem, const PreemptionAsk& a) {
  return free_cpu >= a.cpu_mhz && free_mem >= a.memory_mb;
}

}  // namespace

std::optional<std::vector<std::string>> select_preemptions(
    const PreemptionAsk& ask, const std::vector<Resident>& residents,
    const std::map<std::string, int>& already) {
  // Candidates by priority, lowest first; the placing job's own allocs are within 10 of it.
  std::map<int, std::vector<const Resident*>> by_priority;
  for (const auto& r : residents)
    if (ask.job_priority - r.priority >= 10) by_priority[r.priority].push_back(&r);
  std::map<std::string, int> counts = already;
  int need_cpu = ask.cpu_mhz, need_mem = ask.memory_mb;
  int free_cpu = ask.free_cpu, free_mem = ask.free_memory;
  std::vector<const Resident*> chosen;
  bool met = false;
  for (auto& [priority, group] : by_priority) {
    while (!group.empty() && !met) {
      std::size_t best = 0;
      double best_distance = std::numeric_limits<double>::max();
      for (std::size_t i = 0; i < group.size(); ++i) {
        const Resident& r = *group[i];
        const int n = counts[r.job_key + "/" + r.group];
        double penalty = r.max_parallel > 0 && n >= r.max_parallel
                             ? (n + 1 - r.max_parallel) * kMaxParallelPenalty
                             : 0.0;
        double d = distance(need_cpu, need_mem, r) + penalty;
        if (d < best_distance) {
          best_distance = d;
          best = i;
        }
      }
      const Resident* r = group[best];
      group.erase(group.begin() + best);
      chosen.push_back(r);
      counts[r->job_key + "/" + r->group]++;
      free_cpu += r->cpu_mhz;
      free_mem += r->memory_mb;
      need_cpu -= r->cpu_mhz;
      need_mem -= r->memory_mb;
      met = fits(free_cpu, free_mem, ask);
    }
    if (met) break;
  }
  if (!met) return std::nullopt;
  // Nomad's filterSuperset: farthest from the ask first, stopping as soon as the ask fits, so
  // an alloc that the bigger ones already cover is left running.
  std::stable_sort(chosen.begin(), chosen.end(), [&](const Resident* a, const Resident* b) {
    return distance(ask.cpu_mhz, ask.memory_mb, *a) > distance(ask.cpu_mhz, ask.memory_mb, *b);
  });
  std::vector<std::string> out;
  free_cpu = ask.free_cpu;
  free_mem = ask.free_memory;
  for (const Resident* r : chosen) {
    out.push_back(r->alloc_id);
    free_cpu += r->cpu_mhz;
    free_mem += r->memory_mb;
    if (fits(free_cpu, free_mem, ask)) break;
  }
  return out;
}

double preemption_score(const std::vector<int>& priorities) {
  if (priorities.empty()) return 0.0;
  double max = 0, sum = 0;
  for (int p : priorities) {
    max = std::max(max, double(p));
    sum += p;
  }
  const double net = max + (max > 0 ? sum / max : 0.0);
  // Nomad's constants: a net priority of 2048 scores 0.5.
  constexpr double kRate = 0.0048, kOrigin = 2048.0;
  return 1.0 / (1.0 + std::exp(kRate * (net - kOrigin)));
}

}  // namespace drover::server
