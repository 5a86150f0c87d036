// parse_job(): size and nesting bounds, format detection (Nomad HCL, Nomad JSON or YAML), the
// readers, then validation; every problem is returned at once.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "drover/common/substitute.hpp"
#include "jobspec/hcl/hcl.hpp"
#include "jobspec/readers.hpp"

namespace drover::jobspec {

namespace {

using nlohmann::json;

// Deepest bracket nesting, counted before any parser recurses into it. Exact for JSON; for
// YAML a heuristic (quotes in plain scalars), backed by the walk of the parsed tree.
int bracket_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{')
      deepest = std::max(deepest, ++depth);
    else if ((c == ']' || c == '}') && depth > 0)
      --depth;
  }
  return deepest;
}

std::string line_column(std::string_view text, std::size_t byte) {
  byte = std::min(byte, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < byte; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool looks_like_json(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text.substr(first, 3) == "\xEF\xBB\xBF")
    first = text.find_first_not_of(" \t\r\n", first + 3);
  return first != std::string_view::npos && text[first] == '{';
}

}  // namespace

RestartPolicy default_restart_policy(JobType type) {
  RestartPolicy r;
  // Nomad's api.TaskGroup.Canonicalize: service and system get the service policy, batch and
  // sysbatch the batch one.
  if (runs_to_completion(type)) {
    r.attempts = 3;
    r.interval = std::chrono::hours(24);
  } else {
    r.attempts = 2;
    r.interval = std::chrono::minutes(30);
  }
  r.delay = std::chrono::seconds(15);
  r.mode = "fail";
  return r;
}

ReschedulePolicy default_reschedule_policy(JobType type) {
  ReschedulePolicy r;  // the service policy (structs.DefaultServiceJobReschedulePolicy)
  if (type == JobType::Batch) {
    r.attempts = 1;
    r.interval = std::chrono::hours(24);
    r.delay = std::chrono::seconds(5);
    r.delay_function = "constant";
    r.max_delay = Duration{0};
    r.unlimited = false;
  } else if (type == JobType::System || type == JobType::SysBatch) {
    r.unlimited = false;  // a system alloc stays on its node, restarted there
  }
  return r;
}

ReschedulePolicy reschedule_policy_of(const TaskGroup& g, JobType type) {
  if (type == JobType::System || type == JobType::SysBatch) return default_reschedule_policy(type);
  return g.reschedule.value_or(default_reschedule_policy(type));
}

ParseResult parse_job(std::string_view text) { return parse_job(text, HclJobOptions{}); }

namespace {

// Nomad's service names (api/services.go, structs/services.go Canonicalize): a service without
// a name is "<job>-<group>-<task>" ("<job>-<group>" for a group's), and ${JOB}, ${TASKGROUP},
// ${TASK} and ${BASE} in a name are those. The task's own variables (${NOMAD_JOB_NAME}, ...)
// are interpolated later, when it is registered.
void name_services(Job& job) {
  auto name = [&](Service& s, const std::string& group, const std::string& task) {
    const std::string base = job.name + "-" + group + (task.empty() ? "" : "-" + task);
    if (s.name.empty()) {
      s.name = base;
      return;
    }
    s.name = substitute(s.name, {{"${JOB}", job.name},
                                 {"${TASKGROUP}", group},
                                 {"${TASK}", task},
                                 {"${BASE}", base}});
  };
  for (auto& g : job.groups) {
    for (auto& s : g.services) name(s, g.name, "");
    for (auto& t : g.tasks)
      for (auto& s : t.services) name(s, g.name, t.name);
  }
}

}  // namespace

ParseResult parse_job(std::string_view text, const HclJobOptions& hcl_options) {
  ParseResult result;
  if (text.size() > kMaxJobDocumentBytes) {
    result.problems.push_back({"", "job document is " + std::to_string(text.size()) +
                                       " bytes; the limit is " +
                                       std::to_string(kMaxJobDocumentBytes) + " (1 MiB)"});
    return result;
  }
  if (bracket_depth(text) > kMaxJobNestingDepth) {
    result.problems.push_back({"", "job document is nested more than " +
                                       std::to_string(kMaxJobNestingDepth) + " levels deep"});
    return result;
  }

  Job job;
  bool read = false;
  bool nomad_json = false;
  std::optional<detail::HclSourceMap> hcl_map;
  if (hcl::looks_like_hcl(text)) {
    hcl_map.emplace();
    nomad_json = true;  // an HCL job is read as the Nomad JSON it maps to
    read = detail::read_hcl_job(text, hcl_options, job, result.problems, *hcl_map);
  } else if (looks_like_json(text)) {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::parse_error& e) {
      // Not JSON: maybe a YAML flow mapping. When YAML cannot read it either, the JSON
      // error is the one that helps.
      std::vector<Problem> yaml_problems;
      Job yaml_job;
      if (detail::read_yaml_job(text, yaml_job, yaml_problems) && yaml_problems.empty()) {
        job = std::move(yaml_job);
        read = true;
      } else {
        std::string what = e.what();
        // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
        auto colon = what.find(": ", what.find("parse error"));
        std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
        result.problems.push_back({"", "malformed JSON at " +
                                           line_column(text, e.byte > 0 ? e.byte - 1 : 0) + ": " +
                                           detail});
        return result;
      }
    }
    if (!read && doc.is_object() && doc.contains("Job")) {
      nomad_json = true;
      read = detail::read_nomad_json_job(doc, job, result.problems);
    } else if (!read && doc.is_object() && !doc.contains("job") &&
               (doc.contains("TaskGroups") || doc.contains("ID"))) {
      // A bare job object, as GET /v1/job/:id returns it: the same job, with the same paths.
      nomad_json = true;
      read = detail::read_nomad_json_job(json{{"Job", std::move(doc)}}, job, result.problems);
    }
  }
  if (!read && !nomad_json) read = detail::read_yaml_job(text, job, result.problems);

  if (read) {
    // A field the reader already refused (wrong type) keeps its default; validating that
    // default would only repeat the path with a second, misleading message.
    const std::vector<Problem> read_problems = result.problems;
    auto already_reported = [&](const std::string& path) {
      for (const auto& r : read_problems) {
        if (r.path.empty() || path.compare(0, r.path.size(), r.path) != 0) continue;
        if (path.size() == r.path.size() || path[r.path.size()] == '.' ||
            path[r.path.size()] == '[')
          return true;
      }
      return false;
    };
    name_services(job);
    for (auto& p : validate(job)) {
      if (nomad_json) p.path = nomad_json_path(p.path);
      if (!already_reported(p.path)) result.problems.push_back(std::move(p));
    }
  }
  if (hcl_map)
    for (auto& p : result.problems) p = hcl_map->locate(p);
  result.format = hcl_map ? JobFormat::Hcl : nomad_json ? JobFormat::NomadJson : JobFormat::Yaml;
  // A hostile document can hold a problem per line; nobody reads past the first hundred.
  if (result.problems.size() > kMaxReportedProblems) {
    std::size_t more = result.problems.size() - kMaxReportedProblems;
    result.problems.resize(kMaxReportedProblems);
    result.problems.push_back({"", "... and " + std::to_string(more) + " more problems"});
  }
  if (result.problems.empty()) result.job = std::move(job);
  return result;
}

std::string format_problems(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!p.path.empty()) out += p.path + ": ";
    out += p.message + "\n";
  }
  return out;
}

}  // namespace drover::jobspec
