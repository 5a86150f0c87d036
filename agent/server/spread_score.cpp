// Allocation spread scoring; see spread_score.hpp.
#include "server/spread_score.hpp"

#include <algorithm>

#include "runner/constraints.hpp"

namespace drover::server {

std::vector<SpreadCount> spreads_of(const jobspec::Job& job, std::size_t group) {
  const auto& g = job.groups[group];
  std::vector<jobspec::Spread> all = g.placement.spreads;
  all.insert(all.end(), job.placement.spreads.begin(), job.placement.spreads.end());
  std::vector<SpreadCount> out;
  for (const auto& s : all) {
    SpreadCount c;
    c.attribute = s.attribute;
    c.weight = s.weight;
    double sum = 0;
    for (const auto& t : s.targets) {
      c.desired[t.value] = t.percent / 100.0 * g.count;
      sum += c.desired[t.value];
    }
    if (sum > 0 && sum < g.count) c.implicit = g.count - sum;
    out.push_back(std::move(c));
  }
  return out;
}

void count_allocs(std::vector<SpreadCount>& spreads, const runner::NodeInfo& node, int allocs) {
  if (allocs <= 0) return;
  for (auto& s : spreads)
    if (auto v = runner::resolve_target(s.attribute, node)) s.used[*v] += allocs;
}

namespace {

// Nomad's evenSpreadScoreBoost: a value with fewer allocs than the others is boosted, one at
// the most is penalised, an even spread penalised fully.
double even_spread_boost(const SpreadCount& s, const std::optional<std::string>& value) {
  int min = 0, max = 0;
  for (const auto& [v, n] : s.used) {
    if (n <= 0) continue;
    if (min == 0 || n < min) min = n;
    if (max == 0 || n > max) max = n;
  }
  if (min == 0) return 0.0;  // nothing placed yet
  if (!value) return -1.0;
  auto it = s.used.find(*value);
  const int current = it == s.used.end() ? 0 : it->second;
  if (current != min) return double(min - current) / min;
  if (min == max) return -1.0;
  return double(max - min) / min;
}

}  // namespace

std::optional<double> spread_score(const std::vector<SpreadCount>& spreads,
                                   const runner::NodeInfo& node) {
  if (spreads.empty()) return std::nullopt;
  int sum_weights = 0;
  for (const auto& s : spreads) sum_weights += s.weight;
  double total = 0;
  for (const auto& s : spreads) {
    auto value = runner::resolve_target(s.attribute, node);
    if (s.desired.empty()) {
      total += even_spread_boost(s, value);
      continue;
    }
    if (!value) {  // the node lacks the attribute: Nomad's full penalty
      total -= 1.0;
      continue;
    }
    auto d = s.desired.find(*value);
    std::optional<double> desired;
    if (d != s.desired.end())
      desired = d->second;
    else
      desired = s.implicit;
    if (!desired || *desired == 0) {  // no allocs wanted on this value
      total -= 1.0;
      continue;
    }
    auto u = s.used.find(*value);
    const double used = (u == s.used.end() ? 0 : u->second) + 1;  // with this placement
    const double weight = sum_weights > 0 ? double(s.weight) / sum_weights : 0.0;
    total += (*desired - used) / *desired * weight;
  }
  if (total == 0) return std::nullopt;
  return total;
}

}  // namespace drover::server
