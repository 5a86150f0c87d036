// Nomad's JobSubmission: the source a job was run from (HCL with its variables), kept beside
// the job so that the UI and `GET /v1/job/:id/submission` show what was written rather than
// the JSON it became (docs/ui.md, "Job page"). The agent and the server read it alike.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "drover/common/result.hpp"

namespace drover::jobspec {

// A register body with its submission taken out.
struct SplitBody {
  std::string body;         // what parse_job reads: the body without "Submission"
  nlohmann::json submission;  // {Source, Format, Variables, VariableFlags}; null: none to keep
};

// Nomad's register request {"Job": ..., "Submission": {...}} (the CLI's and the UI's for an
// HCL file) gives its Submission; a body that is HCL itself is its own source (Format
// "hcl2"); YAML and JSON bodies keep none (their JSON is what they say). A Submission that is
// not {Source: string, Format: string, ...} is refused naming the field.
Result<SplitBody> split_submission(std::string body);

// What GET /v1/job/:id/submission answers: the submission with the job's JobID, Namespace
// and Version.
nlohmann::json submission_reply(const nlohmann::json& submission, const std::string& ns,
                                const std::string& id, int64_t version);

}  // namespace drover::jobspec
