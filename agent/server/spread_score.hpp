// Nomad's allocation spread (scheduler SpreadIterator): a group's and its job's `spread`
// blocks score a node by how far the allocs of the group already placed per value of the
// spread attribute are from the targets' share of the group's count (weighted by the spread's
// weight over the sum of weights), or, with no targets, by how uneven the values' counts are.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jobspec/job.hpp"
#include "runner/task_env.hpp"

namespace drover::server {

// One spread block of a group, with the group's allocs counted per attribute value.
struct SpreadCount {
  std::string attribute;
  int weight = 0;
  std::map<std::string, double> desired;  // value -> allocs wanted there; empty: even spread
  std::optional<double> implicit;         // the count the targets leave to other values
  std::map<std::string, int> used;        // value -> live allocs of the group
};

// The group's spreads then the job's (Nomad's order), with nothing counted yet.
std::vector<SpreadCount> spreads_of(const jobspec::Job& job, std::size_t group);

// Counts `allocs` allocs of the group on `node` into every spread (a node without the
// attribute counts for none).
void count_allocs(std::vector<SpreadCount>& spreads, const runner::NodeInfo& node, int allocs);

// nullopt when there are no spreads or the sum is 0 (left out of Nomad's average then).
std::optional<double> spread_score(const std::vector<SpreadCount>& spreads,
                                   const runner::NodeInfo& node);

}  // namespace drover::server
