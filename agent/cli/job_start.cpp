// `drover job start [-detach] <job>`, Nomad 1.10's: a stopped job runs again as its latest
// version (registered anew with Stop false), followed as `job run` follows a submit. A job
// that is not stopped is refused, as Nomad's is.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/command_context.hpp"

namespace drover::cli {
namespace {

struct StartOptions {
  std::string job;
  bool detach = false;
};

int job_start(Context& ctx, const StartOptions& opts) {
  auto job = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(opts.job)));
  if (!job) return print_error(ctx, job.message());
  if (!bool_field(*job, "Stop"))
    return print_error(ctx, "job \"" + opts.job + "\" has not been stopped");
  (*job)["Stop"] = false;
  const std::string body = nlohmann::json{{"Job", *job}}.dump();
  // The job names its namespace; the path's is the same.
  auto answer = ctx.api.post_json(with_namespace(ctx, "/v1/jobs"), body, "application/json");
  if (!answer) return print_error(ctx, answer.message());
  return report_submission(ctx, *answer, body, opts.detach);
}

}  // namespace

void add_job_start_command(CLI::App& job, Handler& selected) {
  auto opts = std::make_shared<StartOptions>();
  auto* cmd = job.add_subcommand("start", "Run a stopped job again, as its latest version");
  cmd->add_option("job", opts->job, "The job's ID")->required();
  cmd->add_flag("--detach", opts->detach, "Return once submitted; do not wait for allocs");
  cmd->callback([&selected, opts] { selected = [opts](Context& ctx) { return job_start(ctx, *opts); }; });
}

}  // namespace drover::cli
