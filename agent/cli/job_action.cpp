// `drover job action` (and `drover action`), Nomad's: runs a task's named action in one of the
// job's running allocs, interactively, over the agent's action websocket (cli/alloc_exec.hpp;
// docs/jobspec.md, "actions"). The alloc is the one -alloc names, or one picked at random
// among the running allocs of -group (as Nomad picks).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <random>

#include "cli/alloc_exec.hpp"
#include "cli/command_context.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

struct ActionOptions {
  std::string job, alloc, group, task, action;
  bool stdin_open = true;
  std::optional<bool> tty;  // unset: whether our stdin is a terminal (Nomad's default)
};

int run_action(Context& ctx, const ActionOptions& o) {
  if (ctx.json) return print_error(ctx, "-json cannot be used with job action");
  std::string alloc_id;
  std::string task = o.task;
  if (o.alloc.empty()) {
    if (o.group.empty() || o.task.empty())
      return print_error(ctx, "-group and -task are required when no -alloc is given");
    auto allocs = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(o.job) + "/allocations"));
    if (!allocs) return print_error(ctx, allocs.message());
    std::vector<std::string> running;
    for (const auto& a : *allocs)
      if (a.value("TaskGroup", "") == o.group && a.value("ClientStatus", "") == "running")
        running.push_back(a.value("ID", ""));
    if (running.empty())
      return print_error(ctx, "job \"" + o.job + "\" has no running allocation in group \"" + o.group + "\"");
    std::random_device rd;
    alloc_id = running[std::uniform_int_distribution<std::size_t>(0, running.size() - 1)(rd)];
  } else {
    auto a = ctx.api.get_json("/v1/allocation/" + url_escape(o.alloc));
    if (!a) return print_error(ctx, a.message());
    alloc_id = a->value("ID", o.alloc);
    if (task.empty()) {
      // Nomad's rule: an alloc of one task needs no -task.
      const json& states = a->contains("TaskStates") ? (*a)["TaskStates"] : json::object();
      if (states.size() != 1) {
        std::string names;
        for (const auto& [name, state] : states.items()) names += (names.empty() ? "" : ", ") + name;
        return print_error(ctx, "-task is required: allocation " + alloc_id.substr(0, 8) +
                                    " runs several tasks (" + names + ")");
      }
      task = states.begin().key();
    }
  }
  InteractiveExec e{alloc_id, task, {}, o.stdin_open, o.tty.value_or(::isatty(0) == 1)};
  e.job_id = o.job;
  e.action = o.action;
  return exec_interactive(ctx, e);
}

void add_action_command(CLI::App& parent, const std::string& name, Handler& selected) {
  auto* cmd = parent.add_subcommand(
      name, "Run a task's named action in a running alloc: -job J (-alloc A | -group G -task T) ACTION");
  auto o = std::make_shared<ActionOptions>();
  cmd->add_option("--job", o->job, "The job that defines the action")->required();
  cmd->add_option("--alloc", o->alloc, "Allocation ID or unique prefix (else one of -group's)");
  cmd->add_option("--group", o->group, "The task group whose running alloc runs it");
  cmd->add_option("--task", o->task, "The task that defines the action");
  // Nomad's -i=false and -t=false reach CLI11 as --i=false and --t=false (cli.hpp,
  // rewrite_single_dash): hence the one-letter long names.
  cmd->add_flag("-i,--i,--interactive", o->stdin_open,
                "Pass our stdin to the action (default true; -i=false closes it)");
  cmd->add_flag("-t,--t,--tty", o->tty, "Give the action a terminal (default: when stdin is one)");
  cmd->add_option("action", o->action, "The action's name")->required();
  cmd->callback([&selected, o] {
    selected = [o](Context& ctx) { return run_action(ctx, *o); };
  });
}

}  // namespace

void add_job_action_commands(CLI::App& app, CLI::App& job, Handler& selected) {
  add_action_command(job, "action", selected);
  add_action_command(app, "action", selected);  // Nomad's alias
}

}  // namespace drover::cli
