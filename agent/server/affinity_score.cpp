// Node affinity scoring; see affinity_score.hpp.
#include "server/affinity_score.hpp"

#include <cstdlib>

#include "jobspec/constraint.hpp"
#include "runner/constraints.hpp"

namespace drover::server {

std::vector<jobspec::Affinity> affinities_of(const jobspec::Job& job, std::size_t group) {
  const auto& g = job.groups[group];
  std::vector<jobspec::Affinity> out = job.placement.affinities;
  out.insert(out.end(), g.placement.affinities.begin(), g.placement.affinities.end());
  for (const auto& t : g.tasks)
    out.insert(out.end(), t.placement.affinities.begin(), t.placement.affinities.end());
  return out;
}

std::optional<double> node_affinity_score(const std::vector<jobspec::Affinity>& affinities,
                                          const runner::NodeInfo& node) {
  double sum_weight = 0, total = 0;
  for (const auto& a : affinities) {
    sum_weight += std::abs(a.weight);
    if (jobspec::check_operand(a.op, runner::resolve_target(a.attribute, node),
                               runner::resolve_target(a.value, node)))
      total += a.weight;
  }
  if (total == 0 || sum_weight == 0) return std::nullopt;
  return total / sum_weight;
}

}  // namespace drover::server
