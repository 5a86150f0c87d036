// The job file readers behind parse_job(); internal to the jobspec library.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "jobspec/hcl_job.hpp"
#include "jobspec/parse.hpp"

namespace drover::jobspec::detail {

// A service's canary_tags: Nomad's own provider registers a canary with them until it is
// promoted; drover's agents are not told of a promotion, so they would keep a promoted canary
// under its canary tags (docs/networking.md, "Services and the catalog"). Refused rather than
// ignored: a load balancer that keeps canaries out by their tags must not get them unmarked.
inline constexpr const char* kCanaryTagsRefused =
    "not supported by drover: a canary is registered with the service's tags (take canary_tags "
    "out)";

// YAML with a top-level `job:`. Fills `job` with what it could read (defaults applied) and
// appends every problem found, with YAML-form paths. False when there is no job to validate.
bool read_yaml_job(std::string_view text, Job& job, std::vector<Problem>& problems);

// Nomad's JSON job format, already parsed: doc["Job"]. Problems use "Job.TaskGroups[0]..."
// paths. False when there is no job to validate.
bool read_nomad_json_job(const nlohmann::json& doc, Job& job, std::vector<Problem>& problems);

// Where each field of the Nomad JSON that an HCL job was mapped to came from, so a problem
// found in the JSON ("Job.TaskGroups[0].Tasks[0].Resources.MemoryMB") can name the HCL that
// was written (`group "web" task "server"`: "resources.memory at line 14: ...").
class HclSourceMap {
 public:
  struct Origin {
    std::string where;  // the labelled blocks: `group "web" task "server"`, or `job "x"`
    std::string field;  // inside them: "resources.memory"; "" for the block itself
    int line = 0;
  };
  void add(std::string json_path, Origin origin);
  // A problem with a JSON path, told in HCL terms; other problems are returned as they are.
  Problem locate(const Problem& p) const;

 private:
  std::map<std::string, Origin> origins_;
};

// Nomad's HCL job format (`job "id" { ... }`), mapped to the Nomad JSON job shape and read by
// read_nomad_json_job. Problems of the mapping name the HCL block and line; problems the JSON
// reader finds keep their JSON paths, for the caller to pass through map.locate() once
// validation is done. False when there is no job to validate.
bool read_hcl_job(std::string_view text, const HclJobOptions& options, Job& job,
                  std::vector<Problem>& problems, HclSourceMap& map);

// The first half of read_hcl_job: the file evaluated and mapped to {"Job": {...}}, or nothing
// when evaluation or mapping found problems (appended to `problems`).
std::optional<nlohmann::json> map_hcl_job(std::string_view text, const HclJobOptions& options,
                                          std::vector<Problem>& problems, HclSourceMap& map);

}  // namespace drover::jobspec::detail
