// A job's records as the server writes them; see job_records.hpp.
#include "server/job_records.hpp"

#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "state/alloc.hpp"

namespace drover::server {

using nlohmann::json;

json new_eval(const jobspec::Job& job, const std::string& ns, const std::string& trigger,
              int version) {
  int64_t now = state::now_ns();
  return {{"ID", random_uuid()},      {"Namespace", ns},
          {"JobID", job.id},          {"Type", jobspec::to_string(job.type)},
          {"Priority", job.priority}, {"TriggeredBy", trigger},
          {"Status", "pending"},      {"JobModifyIndex", version},
          {"CreateTime", now},        {"ModifyTime", now}};
}

NewJobWrites new_job_writes(const Keys& keys, const jobspec::Job& job, const std::string& trigger,
                            int64_t now_ns, const json& extra) {
  const std::string& ns = job.namespace_name;
  json rec = {{"ID", job.id}, {"Namespace", ns},         {"Version", 0},
              {"Stop", false}, {"SubmitTime", now_ns},   {"Job", jobspec::to_json(job)}};
  rec.update(extra);
  json eval = new_eval(job, ns, trigger, 0);
  NewJobWrites w;
  w.job_key = keys.job(ns, job.id);
  w.eval_id = eval["ID"];
  w.puts = {{w.job_key, json_text(rec)},
            {keys.job_version(ns, job.id, 0), json_text(rec)},
            {keys.eval(w.eval_id), json_text(eval)}};
  return w;
}

}  // namespace drover::server
