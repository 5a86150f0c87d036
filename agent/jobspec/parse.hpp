// Reading job files: YAML (top-level `job:`), Nomad's JSON job format (`{"Job": {...}}`) or
// Nomad's HCL job format (`job "id" { ... }`), with defaults applied and every problem
// reported at once, each naming the field's path.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"

namespace drover::jobspec {

// path like "groups[0].tasks[1].resources.memory" (YAML and validate()) or
// "Job.TaskGroups[0].Tasks[1].Resources.MemoryMB" (problems found in a Nomad JSON job);
// empty path for document-level problems (syntax errors, size limits).
struct Problem {
  std::string path;
  std::string message;
};

enum class JobFormat { Yaml, NomadJson, Hcl };

struct ParseResult {
  std::optional<Job> job;         // set only when problems is empty
  std::vector<Problem> problems;  // ALL problems, not only the first
  // What the document was read as: problems found later (at admission) name a Nomad JSON
  // job's fields by their JSON names (nomad_json_path).
  JobFormat format = JobFormat::Yaml;
};

// Hostile-input bounds, checked before or while parsing.
inline constexpr std::size_t kMaxJobDocumentBytes = 1024 * 1024;
inline constexpr int kMaxJobNestingDepth = 64;
// parse_job() reports at most this many problems, then one line saying how many more.
inline constexpr std::size_t kMaxReportedProblems = 100;

// Detects the format: a document that opens with an HCL block (`job "id" {`, `variable`,
// `locals`) is Nomad's HCL, mapped to Nomad's JSON job format and read as that; a JSON
// document whose top level has "Job" is Nomad's JSON job format; otherwise YAML with
// top-level key `job:`. Problems in an HCL job name its blocks and lines
// (`group "web" task "api": resources.memory at line 14: ...`). Applies defaults (restart defaults by job type:
// service 2/30m/15s/fail, batch 3/24h/15s/fail; resources cpu 100, memory 300; logs 10 files
// x 10 MB; kill_timeout 5s; name = id). Runs validate() too, but without driver knowledge.
ParseResult parse_job(std::string_view text);

// Validation of a parsed job. known_drivers: when non-empty, a task whose driver is not in it
// gives "groups[0].tasks[0].driver: unknown driver \"foo\" (loaded drivers: raw_exec, exec)".
// Paths are always in the YAML form; nomad_json_path() maps them for JSON users.
std::vector<Problem> validate(const Job& job, const std::vector<std::string>& known_drivers = {});

// One line per problem: "path: message" (or just message when path is empty).
std::string format_problems(const std::vector<Problem>& problems);

// Why a volume_mount's destination (after interpolation) cannot be mounted at: not absolute,
// "/" itself, `..` or control characters in it; nullopt when it is fine.
std::optional<std::string> mount_destination_problem(const std::string& destination);

// "10s", "5m", "1h30m", "250ms", "1.5s", "2h" -> ns (Go's time.ParseDuration syntax:
// ns, us, µs, ms, s, m, h; "0" alone is zero); errors name the bad text.
drover::Result<Duration> parse_duration(std::string_view text);

// The shortest text parse_duration reads back as `d` ("1h30m", "250ms", "0s").
std::string format_duration(Duration d);

// The restart policy Nomad gives a group of a job of this type when it sets none.
RestartPolicy default_restart_policy(JobType type);
// Nomad's default reschedule policy of a job type: service unlimited, 30s exponential up to
// 1h; batch 1 attempt in 24h after 5s; system and sysbatch are never rescheduled (attempts 0).
ReschedulePolicy default_reschedule_policy(JobType type);
// The reschedule policy a group's failed allocs follow: its own, else its job type's default.
ReschedulePolicy reschedule_policy_of(const TaskGroup& g, JobType type);

// Maps a YAML-form path ("groups[0].tasks[1].resources.memory") to the Nomad JSON form
// ("Job.TaskGroups[0].Tasks[1].Resources.MemoryMB"), for problems about a JSON job.
std::string nomad_json_path(std::string_view yaml_path);

}  // namespace drover::jobspec
