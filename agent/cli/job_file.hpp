// Reading a job file for `drover job run|validate`: an HCL job is evaluated here, in the CLI,
// where its -var, -var-file and NOMAD_VAR_* values and the files its file() and templatefile()
// read are, and sent to the agent as the Nomad JSON it means (as Nomad's CLI does). YAML and
// JSON job files go to the agent as they are.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::cli {

struct JobFileOptions {
  std::vector<std::string> vars;       // -var name=value
  std::vector<std::string> var_files;  // -var-file FILE
};

struct JobFile {
  std::string text;                   // the file as read
  bool hcl = false;                   // Nomad HCL
  std::optional<nlohmann::json> doc;  // HCL: {"Job": {...}}, set when it has no problems
  // HCL: every problem, one per line, "FILE:LINE:COLUMN: message" with the line and a caret
  // when the problem has a position. Empty when the job is good.
  std::string problems;
};

// Reads `path` ("-": stdin) and, for HCL, evaluates and checks it. An error only when a file
// cannot be read or -var is malformed; problems of the job are in JobFile::problems.
drover::Result<JobFile> read_job_file(const std::string& path, const JobFileOptions& options);

// Puts the source line and a caret under each "line L, column C" a problem names.
std::string with_source_lines(const std::string& file_name, const std::string& text,
                              const std::string& problem);

}  // namespace drover::cli
