// Where a job may run, judged on this node: the job's, groups' and tasks' `constraint` blocks
// against the node's attributes, meta, class, pool, datacenter, name and id (Nomad's
// resolveTarget), `distinct_hosts` and `distinct_property` by counting the allocs the job asks
// for, and the job's node_pool against the agent's. A job this node cannot satisfy is refused
// at admission with 409, each problem naming the constraint and this node's value, the way
// `nomad job plan` explains a placement failure (docs/jobspec.md, "constraints").
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jobspec/job.hpp"
#include "jobspec/parse.hpp"
#include "runner/task_env.hpp"

namespace drover::runner {

// The node as GET /v1/node shows it (ID, Name, Datacenter, NodeClass, NodePool, Attributes
// with the drivers' and the dynamic ones, Meta): what constraints are judged against.
NodeInfo node_info_from_json(const nlohmann::json& node);

// "${attr.kernel.name}" -> the node's value; a literal (no "${") is itself; an unknown target
// or a missing attribute or meta key is nullopt.
std::optional<std::string> resolve_target(const std::string& target, const NodeInfo& node);

// A constraint as messages name it: "${attr.kernel.name} = linux", "distinct_hosts".
std::string constraint_text(const jobspec::Constraint& c);

// Why `node` fails the value comparison `c` (any operator but distinct_hosts and
// distinct_property, which count allocs): "this node's ${attr.x} is \"v\"", "this node has no
// ${meta.y}". Nothing when it holds.
std::optional<std::string> unmet_constraint(const jobspec::Constraint& c, const NodeInfo& node);

// Every constraint this node fails, and a node_pool mismatch, with YAML-form paths
// ("groups[0].constraints[1]"). Empty: the job may run here. `whole_job_here`: every alloc of
// the job runs on this node (a job submitted to this agent), so distinct_hosts and
// distinct_property count them; false for one alloc a cluster scheduler placed, whose
// siblings are on other nodes.
std::vector<jobspec::Problem> placement_problems(const jobspec::Job& job, const NodeInfo& node,
                                                 bool whole_job_here = true);

}  // namespace drover::runner
