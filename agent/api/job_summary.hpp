// Nomad's JobSummary (GET /v1/job/:id/summary), built the same on the agent and on a server:
// each group's allocs counted by client status (Queued, Starting, Running, Failed, Complete,
// Lost; Queued stays 0, drover keeps no unplaced count) and a parent's children by status
// (Pending, Running, Dead).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace drover::api {

struct SummaryInput {
  std::string job_id, ns;
  std::vector<std::string> groups;                           // the job's groups, in order
  std::vector<std::pair<std::string, std::string>> allocs;  // each alloc's group and client status
  std::vector<std::string> children;                         // each child job's status
};

nlohmann::json job_summary_json(const SummaryInput& in);

}  // namespace drover::api
