// Nomad's JobSummary; see job_summary.hpp.
#include "api/job_summary.hpp"

#include <map>

namespace drover::api {

nlohmann::json job_summary_json(const SummaryInput& in) {
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& g : in.groups)
    groups[g] = {{"Queued", 0}, {"Complete", 0}, {"Failed", 0}, {"Running", 0}, {"Starting", 0}, {"Lost", 0}, {"Unknown", 0}};
  static const std::map<std::string, const char*> kColumn = {
      {"pending", "Starting"}, {"running", "Running"}, {"complete", "Complete"},
      {"failed", "Failed"},    {"lost", "Lost"}, {"unknown", "Unknown"}};
  for (const auto& [group, status] : in.allocs) {
    auto col = kColumn.find(status);
    if (col == kColumn.end() || !groups.contains(group)) continue;
    nlohmann::json& n = groups[group][col->second];
    n = n.get<int>() + 1;
  }
  nlohmann::json children = {{"Pending", 0}, {"Running", 0}, {"Dead", 0}};
  for (const auto& s : in.children) {
    nlohmann::json& n = children[s == "running" ? "Running" : s == "dead" ? "Dead" : "Pending"];
    n = n.get<int>() + 1;
  }
  return {{"JobID", in.job_id}, {"Namespace", in.ns}, {"Summary", groups}, {"Children", children}};
}

}  // namespace drover::api
