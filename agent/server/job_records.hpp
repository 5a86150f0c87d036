// The records the server writes for a job: a new evaluation, and a new job's first version
// (a launched periodic child, a dispatched one) with the evaluation that has it placed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "jobspec/job.hpp"
#include "server/keys.hpp"

namespace drover::server {

// A pending evaluation of `job` triggered by `trigger` ("job-register", "periodic-job", ...).
nlohmann::json new_eval(const jobspec::Job& job, const std::string& ns, const std::string& trigger,
                        int version);

// A new job's first version as the server stores it: the job key and version 0 (with `extra`
// merged into the record), and the evaluation that has the leader place it.
struct NewJobWrites {
  std::vector<std::pair<std::string, std::string>> puts;  // key, value
  std::string job_key;                                    // the job's key, absent until now
  std::string eval_id;
};
NewJobWrites new_job_writes(const Keys& keys, const jobspec::Job& job, const std::string& trigger,
                            int64_t now_ns, const nlohmann::json& extra = nlohmann::json::object());

}  // namespace drover::server
