// In-place updates; see in_place.hpp.
#include "server/in_place.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// The job as far as a running alloc of `group` is concerned.
json what_runs(const json& job, const std::string& group) {
  if (!job.is_object()) return job;
  json out = job;
  for (const char* k : {"Update", "Reschedule", "Migrate", "Priority", "TaskGroups"}) out.erase(k);
  for (const auto& g : job.value("TaskGroups", json::array())) {
    if (g.value("Name", "") != group) continue;
    json mine = g;
    // The count and its scaling bounds say how many run, not what runs.
    // (a group's reschedule block is "ReschedulePolicy", the job's "Reschedule": jobspec/job.cpp)
    for (const char* k : {"Count", "Scaling", "Update", "Migrate", "ReschedulePolicy"}) mine.erase(k);
    out["Group"] = mine;
  }
  return out;
}

}  // namespace

bool updatable_in_place(const json& running_job, const json& new_job, const std::string& group) {
  return what_runs(running_job, group) == what_runs(new_job, group);
}

}  // namespace drover::server
