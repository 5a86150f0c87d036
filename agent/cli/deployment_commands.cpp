// `drover deployment list|status|promote|pause|resume|fail`, Nomad's deployment commands,
// against a drover server (docs/cluster.md, "Operating a deployment"): an id prefix works
// wherever an id goes; -json prints the API's answer. Commands that change a deployment
// follow it afterwards, as Nomad's do, unless -detach.
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "cli/command_context.hpp"
#include "cli/deployment_view.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

// `path`'s list of deployments as a table: /v1/deployments, or a job's.
int list_deployments(Context& ctx, const std::string& path) {
  auto list = ctx.api.get_json(with_namespace(ctx, path));
  if (!list) return print_error(ctx, list.message());
  if (ctx.json) {
    print_json(ctx, *list);
    return 0;
  }
  if (!list->is_array() || list->empty()) {
    ctx.out << "No deployments found\n";
    return 0;
  }
  Table table({"ID", "Job ID", "Job Version", "Status", "Description"});
  for (const auto& d : *list)
    table.add_row({short_id(str_field(d, "ID")), str_field(d, "JobID"),
                   std::to_string(int_field(d, "JobVersion")), str_field(d, "Status"),
                   str_field(d, "StatusDescription")});
  table.render(ctx.out);
  return 0;
}

// A deployment as `deployment status` shows it; followed to its end with `monitor`.
int show_deployment(Context& ctx, const json& d, bool monitor) {
  if (ctx.json) {
    print_json(ctx, d);
    return 0;
  }
  render_key_values(ctx.out, {{"ID", str_field(d, "ID")},
                              {"Job ID", str_field(d, "JobID")},
                              {"Job Version", std::to_string(int_field(d, "JobVersion"))},
                              {"Status", str_field(d, "Status")},
                              {"Description", str_field(d, "StatusDescription")}});
  ctx.out << "\nDeployed\n";
  print_deployment_groups(ctx, d);
  if (!monitor) return 0;
  ctx.out << '\n';
  return follow_deployment(ctx, str_field(d, "ID"));
}

int deployment_status(Context& ctx, const std::string& id, bool monitor) {
  auto d = ctx.api.get_json(with_namespace(ctx, "/v1/deployment/" + url_escape(id)));
  if (!d) return print_error(ctx, d.message());
  return show_deployment(ctx, *d, monitor);
}

// `job deployments -latest JOB`: the job's newest deployment, shown as `deployment status`.
int latest_deployment(Context& ctx, const std::string& job) {
  auto d = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(job) + "/deployment"));
  if (!d) return print_error(ctx, d.message());
  if (d->is_null()) {
    if (ctx.json) print_json(ctx, *d);
    else ctx.out << "No deployments found for job \"" << job << "\"\n";
    return 0;
  }
  return show_deployment(ctx, *d, false);
}

// A change to the deployment: POST /v1/deployment/<verb>/<id> with `body`, then `done` and,
// unless detached, the deployment followed to its end.
int change_deployment(Context& ctx, const std::string& verb, const std::string& id, json body,
                      const std::string& done, bool detach) {
  // The full id first: the body names it, and the route takes a prefix only to find it.
  auto d = ctx.api.get_json(with_namespace(ctx, "/v1/deployment/" + url_escape(id)));
  if (!d) return print_error(ctx, d.message());
  const std::string full = str_field(*d, "ID");
  body["DeploymentID"] = full;
  auto answer = ctx.api.post_json(
      with_namespace(ctx, "/v1/deployment/" + verb + "/" + url_escape(full)), body.dump(),
      "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << "Deployment \"" << full << "\" " << done << "\n";
  if (detach) return 0;
  ctx.out << '\n';
  return follow_deployment(ctx, full);
}

}  // namespace

void add_deployment_commands(CLI::App& app, Handler& selected) {
  auto* dep = app.add_subcommand("deployment", "Inspect and operate a job's rolling deployments (server)");
  dep->require_subcommand(1);

  auto* list = dep->add_subcommand("list", "List deployments, newest first");
  list->callback([&selected] {
    selected = [](Context& ctx) { return list_deployments(ctx, "/v1/deployments"); };
  });

  // `job deployments [-latest] JOB`, Nomad's: the job's deployments, newest first.
  auto* job = app.get_subcommand("job");
  auto* of_job = job->add_subcommand("deployments", "List a job's deployments, newest first (server)");
  auto job_id = std::make_shared<std::string>();
  auto latest = std::make_shared<bool>(false);
  of_job->add_option("job", *job_id, "The job's ID")->required();
  of_job->add_flag("--latest", *latest, "Show only the newest deployment, as deployment status does");
  of_job->callback([&selected, job_id, latest] {
    selected = [job_id, latest](Context& ctx) {
      return *latest ? latest_deployment(ctx, *job_id)
                     : list_deployments(ctx, "/v1/job/" + url_escape(*job_id) + "/deployments");
    };
  });

  auto* status = dep->add_subcommand("status", "Show a deployment and its groups' counts");
  auto status_id = std::make_shared<std::string>();
  auto monitor = std::make_shared<bool>(false);
  status->add_option("id", *status_id, "Deployment ID or unique prefix")->required();
  status->add_flag("--monitor", *monitor, "Follow the deployment until it ends");
  status->callback([&selected, status_id, monitor] {
    selected = [status_id, monitor](Context& ctx) {
      return deployment_status(ctx, *status_id, *monitor);
    };
  });

  // Each change takes an id and, when it follows the deployment afterwards, -detach (return
  // at once). A pause is not followed: it would wait for the resume.
  auto change = [&](const char* name, const char* help, const std::string& verb,
                    std::function<json()> body, const std::string& done, bool follows,
                    std::shared_ptr<std::vector<std::string>> groups = nullptr) {
    auto* cmd = dep->add_subcommand(name, help);
    auto id = std::make_shared<std::string>();
    auto detach = std::make_shared<bool>(!follows);
    cmd->add_option("id", *id, "Deployment ID or unique prefix")->required();
    if (follows)
      cmd->add_flag("--detach", *detach, "Return at once instead of following the deployment");
    if (groups)
      cmd->add_option("--group", *groups,
                      "Promote only this group's canaries (repeatable; default: every group)");
    cmd->callback([&selected, id, detach, verb, body, done] {
      selected = [id, detach, verb, body, done](Context& ctx) {
        return change_deployment(ctx, verb, *id, body(), done, *detach);
      };
    });
  };
  auto groups = std::make_shared<std::vector<std::string>>();
  change("promote", "Promote a deployment's canaries: the rest of the allocs roll", "promote",
         [groups] {
           if (groups->empty()) return json{{"All", true}};
           return json{{"All", false}, {"Groups", *groups}};
         },
         "promoted", true, groups);
  change("pause", "Pause a deployment: nothing more is replaced until it is resumed", "pause",
         [] { return json{{"Pause", true}}; }, "paused", false);
  change("resume", "Resume a paused deployment; its progress deadlines count from now", "pause",
         [] { return json{{"Pause", false}}; }, "resumed", true);
  change("fail", "Fail a deployment: with auto_revert the last stable version runs again",
         "fail", [] { return json::object(); }, "marked as failed", true);
}

}  // namespace drover::cli
