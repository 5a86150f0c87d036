// `drover job run|validate|status|stop|dispatch|periodic force`: submit or check a job file,
// show jobs and their allocations (and a parent's children), stop a job, dispatch a
// parameterized job, force a periodic one.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include "cli/alloc_monitor.hpp"
#include "cli/eval_monitor.hpp"
#include "cli/deployment_view.hpp"
#include "cli/job_diff_view.hpp"
#include "cli/command_context.hpp"
#include "cli/job_file.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "jobspec/parse.hpp"
#include "jobspec/rolling_update.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/names.hpp"

namespace drover::cli {

namespace {

struct RunOptions {
  std::string file;
  bool detach = false;
  bool output = false;  // -output: print the Nomad JSON, submit nothing
  std::optional<int64_t> check_index;  // -check-index: Nomad's EnforceIndex (a server's)
  JobFileOptions variables;
};

// Nomad's JSON jobs are {"Job": {...}}; anything else goes to the agent as YAML (of which
// JSON is a subset, so a JSON file without "Job" still gets a precise error from the agent).
// The header is a hint only: the agent tells Nomad HCL (`job "id" {`) from YAML by content.
std::string content_type_for(const std::string& body, bool json_flag) {
  if (json_flag) return "application/json";
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("Job")) return "application/json";
  return "application/yaml";
}

// An HCL job's problems, each with its file, line, column and a caret under the place.
int print_problems(Context& ctx, const JobFile& file) {
  ctx.err << "Error: the job file has problems:\n" << file.problems;
  return 1;
}

// -output: the {"Job": ...} that would be submitted, as `nomad job run -output` prints it.
int print_output(Context& ctx, const JobFile& file) {
  if (file.hcl) {
    print_json(ctx, *file.doc);
    return 0;
  }
  auto parsed = nlohmann::json::parse(file.text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("Job")) {
    print_json(ctx, parsed);
    return 0;
  }
  return print_error(ctx, "-output takes an HCL or Nomad JSON job file");
}

// Where `drover job run` submits: as Nomad's CLI, a job file that names its namespace goes
// there; -namespace (or $NOMAD_NAMESPACE) places a job whose file does not.
std::string submit_path(const Context& ctx, const std::string& body) {
  if (ctx.ns.empty()) return "/v1/jobs";
  auto parsed = jobspec::parse_job(body);
  if (parsed.job && parsed.job->namespace_name != kDefaultNamespace) return "/v1/jobs";
  return with_namespace(ctx, "/v1/jobs");
}

int run_job(Context& ctx, const RunOptions& opts) {
  auto file = read_job_file(opts.file, opts.variables);
  if (!file) return print_error(ctx, file.message());
  if (!file->problems.empty()) return print_problems(ctx, *file);
  if (opts.output) return print_output(ctx, *file);
  // An HCL job goes as the Nomad JSON it was evaluated to, here, with its variables, and its
  // text as Nomad's Submission, which the job page shows (GET /v1/job/:id/submission).
  const std::string body = file->hcl ? file->doc->dump() : file->text;
  std::string request = body;
  std::string content_type = file->hcl ? "application/json" : content_type_for(body, ctx.json);
  nlohmann::json submission;
  if (file->hcl) {
    nlohmann::json flags = nlohmann::json::object();
    for (const auto& v : opts.variables.vars)
      if (auto eq = v.find('='); eq != std::string::npos) flags[v.substr(0, eq)] = v.substr(eq + 1);
    submission = {{"Source", file->text}, {"Format", "hcl2"}, {"Variables", ""},
                  {"VariableFlags", flags}};
    request = nlohmann::json{{"Job", (*file->doc)["Job"]}, {"Submission", submission}}.dump();
  }
  if (opts.check_index) {
    // Nomad's register request: {"Job": ..., "EnforceIndex": true, "JobModifyIndex": n}; a
    // YAML job goes as the Nomad JSON it reads as.
    auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    nlohmann::json job;
    if (doc.is_object() && doc.contains("Job")) {
      job = doc["Job"];
    } else {
      auto parsed = jobspec::parse_job(body);
      if (!parsed.job) return print_error(ctx, jobspec::format_problems(parsed.problems));
      job = jobspec::to_json(*parsed.job);
    }
    nlohmann::json enforced = {{"Job", job}, {"EnforceIndex", true},
                               {"JobModifyIndex", *opts.check_index}};
    if (!submission.is_null()) enforced["Submission"] = submission;
    request = enforced.dump();
    content_type = "application/json";
  }
  auto answer = ctx.api.post_json(submit_path(ctx, body), request, content_type);
  if (!answer) return print_error(ctx, answer.message());
  return report_submission(ctx, *answer, body, opts.detach);
}

}  // namespace

// After a submit (job run, job start): a server's evaluation awaited unless detached, what was
// placed, its allocs followed, and a rolling update's deployment; Nomad's exit codes.
int report_submission(Context& ctx, nlohmann::json& answer, const std::string& body,
                      bool detach) {
  if (!detach) await_evaluation(ctx, answer);

  const std::string job_id = str_field(answer, "JobID");
  const std::string ns = str_field(answer, "Namespace");
  std::vector<std::string> alloc_ids;
  if (answer.contains("AllocIDs") && answer["AllocIDs"].is_array()) {
    for (const auto& id : answer["AllocIDs"]) {
      if (id.is_string()) alloc_ids.push_back(id.get<std::string>());
    }
  }
  ctx.out << "==> Job \"" << job_id << "\" submitted"
          << (ns.empty() || ns == kDefaultNamespace ? "" : " to namespace \"" + ns + "\"") << "\n";
  std::string ids;
  for (const auto& id : alloc_ids) ids += (ids.empty() ? "" : ", ") + short_id(id);
  if (answer.contains("AllocIDs"))
    ctx.out << "    Allocations: " << (ids.empty() ? "(none)" : ids) << '\n';
  else  // detached from a server's evaluation: what to follow
    ctx.out << "    Evaluation ID: " << str_field(answer, "EvalID") << '\n';
  const std::string warnings = str_field(answer, "Warnings");
  if (!warnings.empty()) {
    // One line per warning, as the agent joins them.
    ctx.out << "    Warnings:\n";
    std::istringstream lines(warnings);
    for (std::string line; std::getline(lines, line);) ctx.out << "      " << line << '\n';
  }
  ctx.out.flush();
  if (detach) return 0;
  // A server's evaluation that could not place everything: what it said, and Nomad's exit
  // code for placement failures once what was placed is followed.
  const bool blocked = str_field(answer, "EvalStatus") == "blocked";
  if (blocked)
    ctx.out << "==> Evaluation \"" << short_id(str_field(answer, "EvalID"))
            << "\" is blocked, waiting for capacity: "
            << str_field(answer, "EvalStatusDescription") << '\n';
  int rc = alloc_ids.empty() ? 0 : monitor_allocations(ctx, alloc_ids, AllocMonitorTiming{});
  if (blocked && rc == 0) return 2;
  // Against a server, a version that rolls out under a deployment is followed to its end, as
  // `nomad job run` does.
  auto parsed = jobspec::parse_job(body);
  if (rc == 0 && parsed.job && jobspec::has_rolling_update(*parsed.job) &&
      answer.contains("JobModifyIndex"))
    rc = watch_deployment(ctx, job_id, int_field(answer, "JobModifyIndex"));
  return rc;
}

namespace {

// The allocs a plan would preempt, as `nomad job plan` lists them: one row each, or one row
// per job past Nomad's display threshold of 10.
void print_preemptions(Context& ctx, const nlohmann::json& allocs) {
  if (!allocs.is_array() || allocs.empty()) return;
  ctx.out << "\nPreemptions:\n\n";
  if (allocs.size() < 10) {
    Table table({"Alloc ID", "Job ID", "Task Group"});
    for (const auto& a : allocs)
      table.add_row({str_field(a, "ID"), str_field(a, "JobID"), str_field(a, "TaskGroup")});
    table.render(ctx.out);
    return;
  }
  std::map<std::pair<std::string, std::string>, int> per_job;
  for (const auto& a : allocs) per_job[{str_field(a, "JobID"), str_field(a, "Namespace")}]++;
  Table table({"Job ID", "Namespace", "Preemptions"});
  for (const auto& [job, n] : per_job) table.add_row({job.first, job.second, std::to_string(n)});
  table.render(ctx.out);
}

// `drover job plan FILE` against a server: what running the file would change, as `nomad job
// plan` shows it. Exit codes as Nomad's: 0 nothing would be created or destroyed, 1 some
// allocations would be, 255 an error.
int plan_job(Context& ctx, const RunOptions& opts) {
  constexpr int kError = 255;
  auto fail = [&](const std::string& why) {
    print_error(ctx, why);
    return kError;
  };
  auto file = read_job_file(opts.file, opts.variables);
  if (!file) return fail(file.message());
  if (!file->problems.empty()) {
    print_problems(ctx, *file);
    return kError;
  }
  const std::string body = file->hcl ? file->doc->dump() : file->text;
  auto parsed = jobspec::parse_job(body);
  if (!parsed.job) return fail(jobspec::format_problems(parsed.problems));
  auto answer = ctx.api.post_json(
      with_namespace(ctx, "/v1/job/" + url_escape(parsed.job->id) + "/plan"), body,
      file->hcl ? "application/json" : content_type_for(body, ctx.json));
  if (!answer) return fail(answer.message());
  const auto updates =
      answer->value("Annotations", nlohmann::json::object()).value("DesiredTGUpdates", nlohmann::json());
  bool changes = false;
  if (updates.is_object())
    for (const auto& [group, u] : updates.items())
      changes = changes || int_field(u, "Place") + int_field(u, "Stop") +
                                   int_field(u, "DestructiveUpdate") + int_field(u, "Canary") +
                                   int_field(u, "Migrate") > 0;
  if (ctx.json) {
    print_json(ctx, *answer);
    return changes ? 1 : 0;
  }
  if (answer->contains("Diff") && (*answer)["Diff"].is_object())
    print_job_diff(ctx.out, (*answer)["Diff"], updates);
  ctx.out << "\nScheduler dry-run:\n";
  const auto failed = answer->value("FailedTGAllocs", nlohmann::json());
  if (!failed.is_object() || failed.empty()) {
    ctx.out << "- All tasks successfully allocated.\n";
  } else {
    ctx.out << "- WARNING: Failed to place all allocations.\n";
    print_failed_placements(ctx.out, failed);
  }
  print_preemptions(ctx, answer->value("Annotations", nlohmann::json::object())
                             .value("PreemptedAllocs", nlohmann::json()));
  const int64_t index = int_field(*answer, "JobModifyIndex");
  const int64_t shown = answer->value("JobModifyIndex", -1) < 0 ? 0 : index;
  ctx.out << "\nJob Modify Index: " << shown << '\n';
  ctx.out << "To submit the job with version verification run:\n\n"
          << "drover job run -check-index " << shown << ' ' << opts.file << "\n\n"
          << "When running the job with the check-index flag, the job will only be run if the\n"
          << "job modify index given matches the server-side version. If the index has\n"
          << "changed, another user has modified the job and the plan's results are\n"
          << "potentially invalid.\n";
  const std::string warnings = str_field(*answer, "Warnings");
  if (!warnings.empty()) ctx.out << "Warnings: " << warnings << '\n';
  return changes ? 1 : 0;
}

// `drover job validate`: the job file checked here, with its variables, as the agent checks a
// submitted job (but without knowing the agent's drivers); nothing is submitted.
int validate_job(Context& ctx, const RunOptions& opts) {
  auto file = read_job_file(opts.file, opts.variables);
  if (!file) return print_error(ctx, file.message());
  if (!file->problems.empty()) return print_problems(ctx, *file);
  if (!file->hcl) {
    auto parsed = jobspec::parse_job(file->text);
    if (!parsed.problems.empty()) {
      ctx.err << "Error: the job file has problems:\n" << jobspec::format_problems(parsed.problems);
      return 1;
    }
  }
  ctx.out << "Job validation successful\n";
  return 0;
}

void print_jobs(Context& ctx, const nlohmann::json& jobs) {
  if (!jobs.is_array() || jobs.empty()) {
    ctx.out << "No running jobs\n";
    return;
  }
  // Every namespace (-namespace '*'): a Namespace column, as Nomad's CLI shows.
  const bool all = ctx.ns == "*";
  std::vector<std::string> header = {"ID", "Type", "Priority", "Status", "Submit Date"};
  if (all) header.insert(header.begin() + 1, "Namespace");
  Table table(header);
  for (const auto& job : jobs) {
    std::vector<std::string> row = {str_field(job, "ID"), str_field(job, "Type"),
                                    str_field(job, "Priority"), str_field(job, "Status"),
                                    format_unix_nanos(int_field(job, "SubmitTime"))};
    if (all) row.insert(row.begin() + 1, str_field(job, "Namespace"));
    table.add_row(row);
  }
  table.render(ctx.out);
}

std::string join_strings(const nlohmann::json& list, const char* separator) {
  std::string joined;
  if (!list.is_array()) return joined;
  for (const auto& item : list) {
    if (!item.is_string()) continue;
    if (!joined.empty()) joined += separator;
    joined += item.get<std::string>();
  }
  return joined;
}

void show_children(Context& ctx, const nlohmann::json& job);

// Nomad's Summary table: each group's allocs by status (GET /v1/job/:id/summary). Nothing when
// the agent has no summary to give (an older one).
void print_summary(Context& ctx, const std::string& id) {
  auto summary = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(id) + "/summary"));
  if (!summary || !summary->contains("Summary") || !(*summary)["Summary"].is_object()) return;
  static const char* kColumns[] = {"Queued", "Starting", "Running", "Failed",
                                   "Complete", "Lost",     "Unknown"};
  Table table(
      {"Task Group", "Queued", "Starting", "Running", "Failed", "Complete", "Lost", "Unknown"});
  for (const auto& [group, counts] : (*summary)["Summary"].items()) {
    std::vector<std::string> row{group};
    for (const char* c : kColumns) row.push_back(std::to_string(counts.value(c, 0)));
    table.add_row(row);
  }
  ctx.out << "\nSummary\n";
  table.render(ctx.out);
}

// A job's allocations as `nomad job status` lists them.
void print_allocs(Context& ctx, const nlohmann::json& allocs) {
  if (!allocs.is_array() || allocs.empty()) {
    ctx.out << "No allocations placed\n";
    return;
  }
  const auto now = now_unix_nanos();
  Table table({"ID", "Task Group", "Desired", "Status", "Created", "Modified"});
  for (const auto& alloc : allocs) {
    table.add_row({short_id(str_field(alloc, "ID")), str_field(alloc, "TaskGroup"),
                   str_field(alloc, "DesiredStatus"), str_field(alloc, "ClientStatus"),
                   format_relative(int_field(alloc, "CreateTime"), now),
                   format_relative(int_field(alloc, "ModifyTime"), now)});
  }
  table.render(ctx.out);
}

int show_job(Context& ctx, const std::string& id) {
  auto job = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(id)));
  if (!job) return print_error(ctx, job.message());
  if (ctx.json) {
    print_json(ctx, *job);
    return 0;
  }
  auto allocs =
      ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(id) + "/allocations"));
  if (!allocs) return print_error(ctx, allocs.message());

  const bool periodic = job->contains("Periodic") && !(*job)["Periodic"].is_null();
  const bool parameterized = job->contains("ParameterizedJob") &&
                             !(*job)["ParameterizedJob"].is_null() &&
                             !job->value("Dispatched", false);
  std::vector<std::pair<std::string, std::string>> rows = {
      {"ID", str_field(*job, "ID")},
      {"Name", str_field(*job, "Name")},
      {"Type", str_field(*job, "Type")},
      {"Priority", str_field(*job, "Priority")},
      {"Status", str_field(*job, "Status")},
      {"Datacenters", join_strings((*job)["Datacenters"], ",")},
      {"Submit Date", format_unix_nanos(int_field(*job, "SubmitTime"))}};
  // An older agent sends no Namespace: no row then.
  if (!str_field(*job, "Namespace").empty())
    rows.insert(rows.begin() + 2, {"Namespace", str_field(*job, "Namespace")});
  if (!str_field(*job, "ParentID").empty()) rows.push_back({"Parent", str_field(*job, "ParentID")});
  if (periodic || parameterized) {
    // As `nomad job status` shows a parent.
    rows.push_back({"Periodic", periodic ? "true" : "false"});
    rows.push_back({"Parameterized", parameterized ? "true" : "false"});
    if (job->contains("NextPeriodicLaunch"))
      rows.push_back(
          {"Next Periodic Launch", format_unix_nanos(int_field(*job, "NextPeriodicLaunch"))});
    render_key_values(ctx.out, rows);
    show_children(ctx, *job);
    return 0;
  }
  render_key_values(ctx.out, rows);
  print_summary(ctx, id);
  print_latest_deployment(ctx, id);
  ctx.out << "\nAllocations\n";
  print_allocs(ctx, *allocs);
  return 0;
}

// `job allocs JOB`, Nomad's: the job's allocations alone.
int job_allocs(Context& ctx, const std::string& id) {
  auto allocs = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(id) + "/allocations"));
  if (!allocs) return print_error(ctx, allocs.message());
  if (ctx.json) {
    print_json(ctx, *allocs);
    return 0;
  }
  print_allocs(ctx, *allocs);
  return 0;
}

// A periodic or parameterized parent's children, as `nomad job status` lists them.
void show_children(Context& ctx, const nlohmann::json& job) {
  const std::string id = str_field(job, "ID");
  // A server's summary counts the children by status (an agent has no summary: no table).
  auto summary =
      ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(id) + "/summary"));
  if (summary && summary->is_object() && summary->contains("Children")) {
    const auto& c = (*summary)["Children"];
    ctx.out << "\nChildren Job Summary\n";
    Table counts({"Pending", "Running", "Dead"});
    counts.add_row({str_field(c, "Pending"), str_field(c, "Running"), str_field(c, "Dead")});
    counts.render(ctx.out);
  }
  auto jobs = ctx.api.get_json(with_namespace(ctx, "/v1/jobs?prefix=" + url_escape(id + "/")));
  ctx.out << (job.contains("Periodic") && !job["Periodic"].is_null()
                  ? "\nPreviously Launched Jobs\n"
                  : "\nDispatched Jobs\n");
  Table table({"ID", "Status", "Submit Date"});
  int rows = 0;
  if (jobs && jobs->is_array())
    for (const auto& child : *jobs) {
      if (str_field(child, "ParentID") != id) continue;
      table.add_row({str_field(child, "ID"), str_field(child, "Status"),
                     format_unix_nanos(int_field(child, "SubmitTime"))});
      ++rows;
    }
  if (rows == 0)
    ctx.out << "No child jobs\n";
  else
    table.render(ctx.out);
}

int job_status(Context& ctx, const std::string& id) {
  if (!id.empty()) return show_job(ctx, id);
  auto jobs = ctx.api.get_json(with_namespace(ctx, "/v1/jobs"));
  if (!jobs) return print_error(ctx, jobs.message());
  if (ctx.json) {
    print_json(ctx, *jobs);
  } else {
    print_jobs(ctx, *jobs);
  }
  return 0;
}

int stop_job(Context& ctx, const std::string& id, bool purge) {
  auto answer =
      ctx.api.del_json(with_namespace(ctx, "/v1/job/" + url_escape(id) + (purge ? "?purge=true" : "")));
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << "==> Job \"" << id << "\" stopped" << (purge ? " and purged" : "") << "\n";
  return 0;
}

struct DispatchOptions {
  std::string job;
  std::string input;    // Nomad's positional input source: a file, or - for stdin
  std::string payload;  // the same as -payload FILE|-
  std::vector<std::string> meta;
  std::string idempotency_token;   // a retry with it dispatches nothing new (a server)
  std::string id_prefix_template;  // the child is <job>/dispatch-<template>-<time>-<id>
  bool detach = false;
};

// A dispatch payload: a file's bytes, or stdin's for "-".
Result<std::string> read_payload(const std::string& path) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read payload " + path, Errc::Invalid);
  buffer << in.rdbuf();
  if (in.bad()) return make_error("cannot read payload " + path, Errc::Invalid);
  return buffer.str();
}

int dispatch_job(Context& ctx, const DispatchOptions& opts) {
  if (!opts.input.empty() && !opts.payload.empty())
    return print_error(ctx, "give the payload once: as -payload or as the input file, not both");
  const std::string source = !opts.payload.empty() ? opts.payload : opts.input;
  nlohmann::json body = {{"Meta", nlohmann::json::object()}};
  if (!source.empty()) {
    auto bytes = read_payload(source);
    if (!bytes) return print_error(ctx, bytes.message());
    body["Payload"] = base64_encode(*bytes);
  }
  for (const auto& kv : opts.meta) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return print_error(ctx, "-meta \"" + kv + "\": must be key=value");
    body["Meta"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (!opts.idempotency_token.empty()) body["IdempotencyToken"] = opts.idempotency_token;
  if (!opts.id_prefix_template.empty()) body["IdPrefixTemplate"] = opts.id_prefix_template;
  auto answer = ctx.api.post_json(with_namespace(ctx, "/v1/job/" + url_escape(opts.job) + "/dispatch"),
                                  body.dump(), "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (!opts.detach && !ctx.json) await_evaluation(ctx, *answer);
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  render_key_values(ctx.out, {{"Dispatched Job ID", str_field(*answer, "DispatchedJobID")},
                              {"Evaluation ID", str_field(*answer, "EvalID")}});
  ctx.out.flush();
  std::vector<std::string> alloc_ids;
  if (answer->contains("AllocIDs") && (*answer)["AllocIDs"].is_array())
    for (const auto& id : (*answer)["AllocIDs"])
      if (id.is_string()) alloc_ids.push_back(id.get<std::string>());
  if (opts.detach || alloc_ids.empty()) return 0;
  return monitor_allocations(ctx, alloc_ids, AllocMonitorTiming{});
}

int force_periodic(Context& ctx, const std::string& id) {
  auto answer =
      ctx.api.post_json(with_namespace(ctx, "/v1/job/" + url_escape(id) + "/periodic/force"), "{}",
                        "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << "==> Job \"" << str_field(*answer, "JobID") << "\" launched\n";
  return 0;
}

// `nomad job promote`: the job's latest deployment, its canaries promoted (a server's API).
int promote_job(Context& ctx, const std::string& id) {
  auto d = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(id) + "/deployment"));
  if (!d) return print_error(ctx, d.message());
  if (!d->is_object()) return print_error(ctx, "job \"" + id + "\" has no deployment");
  const std::string did = str_field(*d, "ID");
  auto answer = ctx.api.post_json("/v1/deployment/promote/" + url_escape(did),
                                  nlohmann::json{{"DeploymentID", did}, {"All", true}}.dump(),
                                  "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << "==> Deployment \"" << did.substr(0, 8) << "\" promoted\n";
  return 0;
}

// -var name=value and -var-file FILE, each repeatable, one value per flag.
void add_variable_options(CLI::App& cmd, JobFileOptions& into) {
  cmd.add_option("--var", into.vars, "An HCL variable's value, name=value (repeatable)")
      ->allow_extra_args(false);
  cmd.add_option("--var-file", into.var_files,
                 "An HCL file of name = value variable assignments (repeatable)")
      ->allow_extra_args(false);
}

}  // namespace

void add_job_commands(CLI::App& app, Handler& selected) {
  auto* job = app.add_subcommand("job", "Submit, inspect and stop jobs");
  job->fallthrough();
  job->require_subcommand(1);

  auto* run =
      job->add_subcommand("run", "Submit a job file: YAML, Nomad HCL (.nomad, .hcl) or Nomad JSON");
  auto run_opts = std::make_shared<RunOptions>();
  run->add_flag("--detach", run_opts->detach, "Return once submitted; do not wait for allocs");
  run->add_flag("--output", run_opts->output,
                "Print the job as Nomad JSON ({\"Job\": ...}) and submit nothing");
  run->add_option("--check-index", run_opts->check_index,
                  "Submit only if the job's modify index (job plan prints it) is this; 0: only "
                  "if the job does not exist yet (a server's)")
      ->check(CLI::NonNegativeNumber);
  add_variable_options(*run, run_opts->variables);
  run->add_option("file", run_opts->file, "Job file, or - for stdin")->required();
  run->callback([&selected, run_opts] {
    selected = [run_opts](Context& ctx) { return run_job(ctx, *run_opts); };
  });

  auto* plan = job->add_subcommand(
      "plan", "Show what running a job file would change (server): a diff and a dry-run");
  auto plan_opts = std::make_shared<RunOptions>();
  add_variable_options(*plan, plan_opts->variables);
  plan->add_option("file", plan_opts->file, "Job file (YAML, Nomad HCL or JSON), or - for stdin")
      ->required();
  plan->callback([&selected, plan_opts] {
    selected = [plan_opts](Context& ctx) { return plan_job(ctx, *plan_opts); };
  });

  auto* validate = job->add_subcommand(
      "validate", "Check a job file (HCL with its variables) without submitting it");
  auto validate_opts = std::make_shared<RunOptions>();
  add_variable_options(*validate, validate_opts->variables);
  validate->add_option("file", validate_opts->file, "Job file, or - for stdin")->required();
  validate->callback([&selected, validate_opts] {
    selected = [validate_opts](Context& ctx) { return validate_job(ctx, *validate_opts); };
  });

  auto* status = job->add_subcommand("status", "List jobs, or show one job and its allocations");
  auto status_id = std::make_shared<std::string>();
  status->add_option("id", *status_id, "Job ID");
  status->callback([&selected, status_id] {
    selected = [status_id](Context& ctx) { return job_status(ctx, *status_id); };
  });

  // As `nomad job inspect`: {"Job": {...}}, which `drover job run` (and Nomad) read back.
  auto* inspect = job->add_subcommand("inspect", "Print a job as Nomad JSON ({\"Job\": ...})");
  auto inspect_id = std::make_shared<std::string>();
  inspect->add_option("id", *inspect_id, "Job ID")->required();
  inspect->callback([&selected, inspect_id] {
    selected = [inspect_id](Context& ctx) {
      auto job = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(*inspect_id)));
      if (!job) return print_error(ctx, job.message());
      print_json(ctx, nlohmann::json{{"Job", *job}});
      return 0;
    };
  });

  auto* stop = job->add_subcommand("stop", "Stop a job and its allocations");
  auto stop_id = std::make_shared<std::string>();
  auto purge = std::make_shared<bool>(false);
  stop->add_option("id", *stop_id, "Job ID")->required();
  stop->add_flag("--purge", *purge, "Also remove the job's record now instead of at job GC");
  stop->callback([&selected, stop_id, purge] {
    selected = [stop_id, purge](Context& ctx) { return stop_job(ctx, *stop_id, *purge); };
  });

  add_job_version_commands(*job, selected);
  add_job_restart_command(*job, selected);
  add_job_init_command(*job, selected);
  add_job_start_command(*job, selected);

  auto* allocs = job->add_subcommand("allocs", "List a job's allocations");
  auto allocs_id = std::make_shared<std::string>();
  allocs->add_option("job", *allocs_id, "The job")->required();
  allocs->callback([&selected, allocs_id] {
    selected = [allocs_id](Context& ctx) { return job_allocs(ctx, *allocs_id); };
  });

  auto* promote = job->add_subcommand("promote", "Promote the canaries of a job's deployment");
  auto promote_id = std::make_shared<std::string>();
  promote->add_option("id", *promote_id, "Job ID")->required();
  promote->callback([&selected, promote_id] {
    selected = [promote_id](Context& ctx) { return promote_job(ctx, *promote_id); };
  });

  auto* dispatch = job->add_subcommand(
      "dispatch", "Dispatch a parameterized job: -meta k=v (repeatable), a payload file or -");
  auto dopts = std::make_shared<DispatchOptions>();
  // One key=value per -meta, so that the job id after it is not taken as a second.
  dispatch->add_option("--meta", dopts->meta, "Meta key=value for the dispatched job")
      ->allow_extra_args(false);
  dispatch->add_option("--payload", dopts->payload, "Payload file, or - for stdin");
  dispatch->add_flag("--detach", dopts->detach, "Return once dispatched; do not wait for allocs");
  dispatch->add_option("--idempotency-token", dopts->idempotency_token,
                       "A retry with the same token dispatches nothing new");
  dispatch->add_option("--id-prefix-template", dopts->id_prefix_template,
                       "Name the child <job>/dispatch-<template>-<time>-<id>");
  dispatch->add_option("job", dopts->job, "Parameterized job ID")->required();
  dispatch->add_option("input", dopts->input, "Payload file, or - for stdin (as in Nomad)");
  dispatch->callback([&selected, dopts] {
    selected = [dopts](Context& ctx) { return dispatch_job(ctx, *dopts); };
  });

  auto* periodic = job->add_subcommand("periodic", "Periodic jobs");
  periodic->require_subcommand(1);
  auto* force = periodic->add_subcommand("force", "Launch a periodic job's child now");
  auto force_id = std::make_shared<std::string>();
  force->add_option("id", *force_id, "Periodic job ID")->required();
  force->callback([&selected, force_id] {
    selected = [force_id](Context& ctx) { return force_periodic(ctx, *force_id); };
  });
}

}  // namespace drover::cli
