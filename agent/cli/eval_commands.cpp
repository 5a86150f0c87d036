// `drover eval list|status` and `drover job eval`, Nomad's evaluation commands, against a
// drover server (docs/cluster.md, "Evaluations"): an evaluation id prefix works; -json prints
// the API's answer.
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/command_context.hpp"
#include "cli/eval_monitor.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

bool has_failures(const json& e) {
  auto f = e.find("FailedTGAllocs");
  return f != e.end() && f->is_object() && !f->empty();
}

std::string or_none(const std::string& s) { return s.empty() ? "<none>" : s; }

int list_evals(Context& ctx, const std::string& job, const std::string& status) {
  std::string path = "/v1/evaluations";
  std::string query;
  if (!job.empty()) query += "job=" + url_escape(job);
  if (!status.empty()) query += (query.empty() ? "" : "&") + std::string("status=") + url_escape(status);
  if (!query.empty()) path += "?" + query;
  auto list = ctx.api.get_json(with_namespace(ctx, path));
  if (!list) return print_error(ctx, list.message());
  if (ctx.json) {
    print_json(ctx, *list);
    return 0;
  }
  if (!list->is_array() || list->empty()) {
    ctx.out << "No evals found\n";
    return 0;
  }
  Table table({"ID", "Priority", "Triggered By", "Job ID", "Namespace", "Node ID", "Status",
               "Placement Failures"});
  for (const auto& e : *list)
    table.add_row({short_id(str_field(e, "ID")), std::to_string(int_field(e, "Priority")),
                   str_field(e, "TriggeredBy"), str_field(e, "JobID"), str_field(e, "Namespace"),
                   short_id(str_field(e, "NodeID")), str_field(e, "Status"),
                   has_failures(e) ? "true" : "false"});
  table.render(ctx.out);
  return 0;
}

int eval_status(Context& ctx, const std::string& id) {
  auto e = ctx.api.get_json(with_namespace(ctx, "/v1/evaluation/" + url_escape(id)));
  if (!e) return print_error(ctx, e.message());
  if (ctx.json) {
    print_json(ctx, *e);
    return 0;
  }
  KeyValues rows = {{"ID", str_field(*e, "ID")},
                    {"Create Time", format_unix_nanos(int_field(*e, "CreateTime"))},
                    {"Modify Time", format_unix_nanos(int_field(*e, "ModifyTime"))},
                    {"Status", str_field(*e, "Status")},
                    {"Status Description", or_none(str_field(*e, "StatusDescription"))},
                    {"Type", str_field(*e, "Type")},
                    {"TriggeredBy", str_field(*e, "TriggeredBy")},
                    {"Job ID", str_field(*e, "JobID")},
                    {"Namespace", str_field(*e, "Namespace")},
                    {"Priority", std::to_string(int_field(*e, "Priority"))},
                    {"Placement Failures", has_failures(*e) ? "true" : "false"},
                    {"Previous Eval", or_none(str_field(*e, "PreviousEval"))}};
  if (int_field(*e, "WaitUntil") > 0)
    rows.emplace_back("Wait Until", format_unix_nanos(int_field(*e, "WaitUntil")));
  render_key_values(ctx.out, rows);
  const auto placed = e->value("PlacedAllocs", json::array());
  if (placed.is_array() && !placed.empty()) {
    ctx.out << "\n==> Placed Allocations\n";
    for (const auto& a : placed) ctx.out << (a.is_string() ? a.get<std::string>() : a.dump()) << '\n';
  }
  if (has_failures(*e)) {
    ctx.out << "\n==> Failed Placements\n";
    print_failed_placements(ctx.out, (*e)["FailedTGAllocs"]);
  }
  return 0;
}

// `nomad job eval`: a new evaluation of the job as stored; -force-reschedule replaces failed
// allocs now, whatever their reschedule policy says.
int evaluate_job(Context& ctx, const std::string& job, bool force, bool detach) {
  json body = {{"JobID", job}, {"EvalOptions", {{"ForceReschedule", force}}}};
  auto answer = ctx.api.post_json(
      with_namespace(ctx, "/v1/job/" + url_escape(job) + "/evaluate"), body.dump(),
      "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (detach || ctx.json) {
    if (ctx.json) print_json(ctx, *answer);
    else ctx.out << "Created eval ID: \"" << short_id(str_field(*answer, "EvalID")) << "\"\n";
    return 0;
  }
  ctx.out << "==> Monitoring evaluation \"" << short_id(str_field(*answer, "EvalID")) << "\"\n";
  await_evaluation(ctx, *answer);
  const std::string status = str_field(*answer, "EvalStatus");
  for (const auto& a : answer->value("AllocIDs", json::array()))
    if (a.is_string()) ctx.out << "    Allocation \"" << short_id(a.get<std::string>()) << "\" created\n";
  ctx.out << "==> Evaluation \"" << short_id(str_field(*answer, "EvalID")) << "\" finished with status \""
          << status << "\"";
  const std::string why = str_field(*answer, "EvalStatusDescription");
  ctx.out << (why.empty() ? "" : ": " + why) << '\n';
  return status == "complete" ? 0 : 2;
}

}  // namespace

void add_eval_commands(CLI::App& app, CLI::App& job, Handler& selected) {
  auto* ev = app.add_subcommand("eval", "Inspect the scheduler's evaluations (server)");
  ev->require_subcommand(1);

  auto* list = ev->add_subcommand("list", "List evaluations, newest first");
  auto list_job = std::make_shared<std::string>();
  auto list_status = std::make_shared<std::string>();
  list->add_option("--job", *list_job, "Only this job's evaluations");
  list->add_option("--status", *list_status,
                   "Only evaluations in this status (pending, blocked, complete, ...)");
  list->callback([&selected, list_job, list_status] {
    selected = [list_job, list_status](Context& ctx) {
      return list_evals(ctx, *list_job, *list_status);
    };
  });

  auto* status = ev->add_subcommand("status", "Show an evaluation, what it placed and why not");
  auto status_id = std::make_shared<std::string>();
  status->add_option("id", *status_id, "Evaluation ID or unique prefix")->required();
  status->callback([&selected, status_id] {
    selected = [status_id](Context& ctx) { return eval_status(ctx, *status_id); };
  });

  auto* cmd = job.add_subcommand("eval", "Evaluate a job again (server): places what is missing");
  auto id = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto detach = std::make_shared<bool>(false);
  cmd->add_option("id", *id, "Job ID")->required();
  cmd->add_flag("--force-reschedule", *force,
                "Replace failed allocs now, even past their reschedule policy's attempts or delay");
  cmd->add_flag("--detach", *detach, "Return at once instead of following the evaluation");
  cmd->callback([&selected, id, force, detach] {
    selected = [id, force, detach](Context& ctx) { return evaluate_job(ctx, *id, *force, *detach); };
  });
}

}  // namespace drover::cli
