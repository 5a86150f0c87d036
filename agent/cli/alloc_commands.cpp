// `drover alloc status|logs|fs|stop`: show allocations and their tasks' events, stream task logs,
// stop an allocation.
#include <CLI/CLI.hpp>
#include <iomanip>
#include <memory>
#include <ostream>
#include <sstream>

#include "cli/alloc_exec.hpp"
#include "cli/alloc_fs.hpp"
#include "cli/alloc_logs.hpp"
#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/task_events.hpp"
#include "cli/time_format.hpp"

namespace drover::cli {

namespace {

struct StatusOptions {
  std::string id;
  bool stats = false;
  bool verbose = false;
};

void print_alloc_list(Context& ctx, const nlohmann::json& allocs) {
  if (!allocs.is_array() || allocs.empty()) {
    ctx.out << "No allocations\n";
    return;
  }
  const auto now = now_unix_nanos();
  Table table({"ID", "Job ID", "Task Group", "Desired", "Status", "Created", "Modified"});
  for (const auto& alloc : allocs) {
    table.add_row({short_id(str_field(alloc, "ID")), str_field(alloc, "JobID"),
                   str_field(alloc, "TaskGroup"), str_field(alloc, "DesiredStatus"),
                   str_field(alloc, "ClientStatus"),
                   format_relative(int_field(alloc, "CreateTime"), now),
                   format_relative(int_field(alloc, "ModifyTime"), now)});
  }
  table.render(ctx.out);
}

// `cores`: the task's Cpu.ReservedCores from the alloc's AllocatedResources (null: none).
void print_task(Context& ctx, const std::string& name, const nlohmann::json& state,
                const nlohmann::json& cores) {
  ctx.out << "\nTask \"" << name << "\" is \"" << str_field(state, "State") << "\"";
  if (bool_field(state, "Failed")) ctx.out << " (failed)";
  if (const auto restarts = int_field(state, "Restarts"); restarts > 0) {
    ctx.out << ", restarted " << restarts << (restarts == 1 ? " time" : " times");
  }
  if (cores.is_array() && !cores.empty()) {
    std::string list;
    for (const auto& c : cores) list += (list.empty() ? "" : ",") + c.dump();
    ctx.out << "\nReserved Cores: " << list;
  }
  ctx.out << "\nRecent Events:\n";
  Table table({"Time", "Type", "Description"});
  const auto events = state.value("Events", nlohmann::json::array());
  if (events.is_array()) {
    // Newest first, as Nomad shows them.
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      table.add_row({format_unix_nanos(int_field(*it, "Time")), str_field(*it, "Type"),
                     describe_task_event(*it)});
    }
  }
  table.render(ctx.out);
}

std::string format_mib(std::int64_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0)
    << " MiB";
  return s.str();
}

// Resource use per task from /v1/client/allocation/:id/stats; an agent without stats yet
// answers 404, which is said in one line rather than failing the whole status.
void print_stats(Context& ctx, const std::string& alloc_id) {
  auto stats = ctx.api.get_json("/v1/client/allocation/" + url_escape(alloc_id) + "/stats");
  ctx.out << "\nResource Usage\n";
  if (!stats) {
    ctx.out << "Stats are not available: " << stats.message() << '\n';
    return;
  }
  Table table({"Task", "CPU", "Memory RSS", "Memory Usage", "Pids"});
  const auto tasks = stats->value("Tasks", nlohmann::json::object());
  if (tasks.is_object()) {
    for (const auto& [name, task] : tasks.items()) {
      const auto usage = task.value("ResourceUsage", nlohmann::json::object());
      const auto cpu = usage.value("CpuStats", nlohmann::json::object());
      const auto memory = usage.value("MemoryStats", nlohmann::json::object());
      std::ostringstream percent;
      const auto p = cpu.value("Percent", nlohmann::json());
      percent << std::fixed << std::setprecision(1) << (p.is_number() ? p.get<double>() : 0.0)
              << "%";
      const auto pids = task.value("Pids", nlohmann::json());
      table.add_row({name, percent.str(), format_mib(int_field(memory, "RSS")),
                     format_mib(int_field(memory, "Usage")),
                     pids.is_object() ? std::to_string(pids.size()) : ""});
    }
  }
  table.render(ctx.out);
}

// The alloc's ports as Nomad's `alloc status` shows them ("Allocation Addresses", a dynamic
// port's label starred); nothing when it has none.
void print_addresses(Context& ctx, const nlohmann::json& alloc) {
  const auto shared = alloc.value("AllocatedResources", nlohmann::json::object())
                          .value("Shared", nlohmann::json::object());
  const auto networks = shared.value("Networks", nlohmann::json::array());
  Table table({"Label", "Dynamic", "Address"});
  bool any = false;
  for (const auto& n : networks) {
    for (const char* which : {"ReservedPorts", "DynamicPorts"}) {
      for (const auto& p : n.value(which, nlohmann::json::array())) {
        const bool dynamic = std::string(which) == "DynamicPorts";
        std::string addr = str_field(p, "HostIP") + ":" + std::to_string(int_field(p, "Value"));
        if (int_field(p, "To") > 0 && int_field(p, "To") != int_field(p, "Value"))
          addr += " -> " + std::to_string(int_field(p, "To"));
        table.add_row({(dynamic ? "*" : "") + str_field(p, "Label"), dynamic ? "yes" : "no", addr});
        any = true;
      }
    }
  }
  if (!any) return;
  // Nomad's heading names the mode when the alloc has a network of its own.
  const std::string mode = networks.empty() ? "" : str_field(networks[0], "Mode");
  ctx.out << "\nAllocation Addresses"
          << (mode.empty() || mode == "host" ? "" : " (mode = \"" + mode + "\")") << ":\n";
  table.render(ctx.out);
}

// Nomad's score formatting ("%.3g").
std::string score_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// `-verbose` against a server: why the scheduler put the alloc where it is, as Nomad prints it
// (the nodes filtered or exhausted, then each top candidate's scores and its final score).
void print_placement_metrics(Context& ctx, const nlohmann::json& alloc) {
  const auto m = alloc.value("Metrics", nlohmann::json());
  if (!m.is_object()) return;
  ctx.out << "\nPlacement Metrics\n";
  for (const auto& [what, key] : {std::pair{"Constraint", "ConstraintFiltered"},
                                  std::pair{"Resources exhausted on", "DimensionExhausted"}}) {
    const auto counts = m.value(key, nlohmann::json::object());
    if (!counts.is_object()) continue;
    for (const auto& [name, n] : counts.items())
      ctx.out << "  * " << what << " \"" << name << "\": " << n.dump() << " nodes\n";
  }
  const auto meta = m.value("ScoreMetaData", nlohmann::json::array());
  if (!meta.is_array() || meta.empty()) return;
  // The scorers of the best node name the columns, sorted, as Nomad's table.
  std::vector<std::string> scorers;
  const auto first = meta[0].value("Scores", nlohmann::json::object());
  for (const auto& [name, v] : first.items()) scorers.push_back(name);
  std::vector<std::string> headers{"Node"};
  headers.insert(headers.end(), scorers.begin(), scorers.end());
  headers.push_back("final score");
  Table table(headers);
  for (const auto& n : meta) {
    std::vector<std::string> row{str_field(n, "NodeID")};
    const auto scores = n.value("Scores", nlohmann::json::object());
    for (const auto& s : scorers)
      row.push_back(
          score_text(scores.contains(s) && scores[s].is_number() ? scores[s].get<double>() : 0.0));
    row.push_back(score_text(n.value("NormScore", 0.0)));
    table.add_row(std::move(row));
  }
  table.render(ctx.out);
}

int show_alloc(Context& ctx, const StatusOptions& opts) {
  auto alloc = ctx.api.get_json("/v1/allocation/" + url_escape(opts.id));
  if (!alloc) return print_error(ctx, alloc.message());
  if (ctx.json) {
    print_json(ctx, *alloc);
    return 0;
  }
  const auto now = now_unix_nanos();
  KeyValues rows{{"ID", str_field(*alloc, "ID")}, {"Name", str_field(*alloc, "Name")}};
  if (!str_field(*alloc, "NodeID").empty()) {
    rows.emplace_back("Node ID", short_id(str_field(*alloc, "NodeID")));
  }
  if (!str_field(*alloc, "NodeName").empty()) {
    rows.emplace_back("Node Name", str_field(*alloc, "NodeName"));
  }
  rows.insert(rows.end(), {{"Job ID", str_field(*alloc, "JobID")},
                           {"Task Group", str_field(*alloc, "TaskGroup")},
                           {"Client Status", str_field(*alloc, "ClientStatus")},
                           {"Client Description", str_field(*alloc, "ClientDescription")},
                           {"Desired Status", str_field(*alloc, "DesiredStatus")},
                           {"Created", format_relative(int_field(*alloc, "CreateTime"), now)},
                           {"Modified", format_relative(int_field(*alloc, "ModifyTime"), now)}});
  // The alloc's own address in bridge mode (Nomad's NetworkStatus).
  const auto net = alloc->value("NetworkStatus", nlohmann::json());
  if (net.is_object() && !str_field(net, "Address").empty())
    rows.emplace_back("Alloc IP", str_field(net, "Address") + " (" +
                                      str_field(net, "InterfaceName") + ")");
  if (!str_field(*alloc, "DesiredDescription").empty())
    rows.emplace_back("Desired Description", str_field(*alloc, "DesiredDescription"));
  // Preemption, both ways (a server's allocs).
  if (!str_field(*alloc, "PreemptedByAllocation").empty())
    rows.emplace_back("Preempted By Allocation", str_field(*alloc, "PreemptedByAllocation"));
  const auto preempted = alloc->value("PreemptedAllocations", nlohmann::json::array());
  if (preempted.is_array() && !preempted.empty()) {
    std::string ids;
    for (const auto& p : preempted)
      ids += (ids.empty() ? "" : ", ") + (p.is_string() ? p.get<std::string>() : p.dump());
    rows.emplace_back("Preempted Allocations", ids);
  }
  render_key_values(ctx.out, rows);
  print_addresses(ctx, *alloc);

  const auto states = alloc->value("TaskStates", nlohmann::json::object());
  if (states.is_object()) {
    // nlohmann's object keeps keys sorted, so tasks print in name order.
    for (const auto& [name, state] : states.items()) {
      const auto& res = alloc->value("AllocatedResources", nlohmann::json::object());
      nlohmann::json cores;
      if (res.contains("Tasks") && res["Tasks"].contains(name) && res["Tasks"][name].contains("Cpu"))
        cores = res["Tasks"][name]["Cpu"].value("ReservedCores", nlohmann::json());
      print_task(ctx, name, state, cores);
    }
  }
  if (opts.stats) print_stats(ctx, str_field(*alloc, "ID"));
  if (opts.verbose) print_placement_metrics(ctx, *alloc);
  return 0;
}

int alloc_status(Context& ctx, const StatusOptions& opts) {
  if (!opts.id.empty()) return show_alloc(ctx, opts);
  auto allocs = ctx.api.get_json(with_namespace(ctx, "/v1/allocations"));
  if (!allocs) return print_error(ctx, allocs.message());
  if (ctx.json) {
    print_json(ctx, *allocs);
  } else {
    print_alloc_list(ctx, *allocs);
  }
  return 0;
}

int stop_alloc(Context& ctx, const std::string& id) {
  auto answer = ctx.api.post_json("/v1/client/allocation/" + url_escape(id) + "/stop", "",
                                  "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << "==> Allocation \"" << id << "\" stopped\n";
  return 0;
}

struct ControlOptions {
  std::string alloc_id, task, signal = "SIGKILL";
};

// restart, signal and gc: one POST each, with the alloc and an optional task.
int control_alloc(Context& ctx, const std::string& action, const ControlOptions& o) {
  std::string body = "{}";
  if (action == "restart")
    body = nlohmann::json{{"TaskName", o.task}, {"AllTasks", o.task.empty()}}.dump();
  else if (action == "signal")
    body = nlohmann::json{{"Task", o.task}, {"Signal", o.signal}}.dump();
  auto answer = ctx.api.post_json("/v1/client/allocation/" + url_escape(o.alloc_id) + "/" + action,
                                  body, "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  std::string what = action == "restart" ? "restarted"
                     : action == "signal" ? "signalled with " + o.signal
                                          : "garbage collected";
  ctx.out << "==> Allocation \"" << o.alloc_id << "\"" << (o.task.empty() ? "" : " task \"" + o.task + "\"")
          << " " << what << "\n";
  return 0;
}

struct ExecOptions {
  std::string alloc_id, task;
  std::vector<std::string> command;
  int timeout_s = 30;
  bool interactive = false, tty = false;
};

// Runs a command inside a running task; its stdout, stderr and exit code become ours. With -i
// or -t, interactively over the exec websocket (alloc_exec.hpp); otherwise one POST that
// answers when the command ends.
int exec_in_alloc(Context& ctx, const ExecOptions& o) {
  if (o.interactive || o.tty) {
    if (ctx.json) return print_error(ctx, "-json cannot be used with -i or -t");
    return exec_interactive(ctx, {o.alloc_id, o.task, o.command, o.interactive, o.tty});
  }
  nlohmann::json body = {{"Task", o.task}, {"Command", o.command}, {"TimeoutMs", o.timeout_s * 1000}};
  auto answer = ctx.api.post_json("/v1/client/allocation/" + url_escape(o.alloc_id) + "/exec",
                                  body.dump(), "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << answer->value("Stdout", "");
  ctx.err << answer->value("Stderr", "");
  return answer->value("ExitCode", 1);
}

}  // namespace

void add_alloc_commands(CLI::App& app, Handler& selected) {
  auto* alloc = app.add_subcommand("alloc", "Inspect allocations, read their logs, stop them");
  alloc->fallthrough();
  alloc->require_subcommand(1);

  auto* status = alloc->add_subcommand("status", "List allocations, or show one in detail");
  auto status_opts = std::make_shared<StatusOptions>();
  status->add_flag("--stats", status_opts->stats, "Show the tasks' resource usage");
  status->add_flag("--verbose", status_opts->verbose,
                   "Show the placement metrics: each candidate node's scores (a server's allocs)");
  status->add_option("id", status_opts->id, "Allocation ID or unique prefix");
  status->callback([&selected, status_opts] {
    selected = [status_opts](Context& ctx) { return alloc_status(ctx, *status_opts); };
  });

  auto* logs = alloc->add_subcommand("logs", "Print or follow a task's stdout or stderr");
  auto logs_opts = std::make_shared<LogsOptions>();
  logs->add_flag("-f,--follow", logs_opts->follow, "Keep printing new output");
  logs->add_flag("--stderr", logs_opts->stderr_stream, "Show stderr instead of stdout");
  logs->add_flag("--tail", logs_opts->tail, "Start near the end (10 lines unless -n or -c)");
  logs->add_option("-n", logs_opts->lines, "With -tail: number of lines")
      ->check(CLI::NonNegativeNumber);
  logs->add_option("-c", logs_opts->bytes, "With -tail: number of bytes")
      ->check(CLI::NonNegativeNumber);
  logs->add_option("alloc", logs_opts->alloc_id, "Allocation ID or unique prefix")->required();
  logs->add_option("task", logs_opts->task, "Task name (optional when the alloc has one task)");
  logs->callback([&selected, logs_opts] {
    selected = [logs_opts](Context& ctx) { return alloc_logs(ctx, *logs_opts); };
  });

  auto* fs = alloc->add_subcommand("fs", "List a dir of an allocation, print a file, or stat a path");
  auto fs_opts = std::make_shared<FsOptions>();
  fs->add_flag("--stat", fs_opts->stat, "Show the path's mode, size, time and content type");
  fs->add_flag("-H", fs_opts->machine_sizes, "Sizes in bytes");
  fs->add_flag("--tail", fs_opts->tail, "A file: start near its end (10 lines unless -n or -c)");
  fs->add_option("-n", fs_opts->lines, "With -tail: number of lines")->check(CLI::NonNegativeNumber);
  fs->add_option("-c", fs_opts->bytes, "With -tail: number of bytes")->check(CLI::NonNegativeNumber);
  fs->add_flag("-f,--follow", fs_opts->follow, "A file: keep printing what is appended to it");
  fs->add_option("alloc", fs_opts->alloc_id, "Allocation ID or unique prefix")->required();
  fs->add_option("path", fs_opts->path, "Path in the allocation's dir (default /)");
  fs->callback([&selected, fs_opts] {
    selected = [fs_opts](Context& ctx) { return alloc_fs(ctx, *fs_opts); };
  });

  auto* stop = alloc->add_subcommand("stop", "Stop an allocation's tasks");
  auto stop_id = std::make_shared<std::string>();
  stop->add_option("alloc", *stop_id, "Allocation ID or unique prefix")->required();
  stop->callback([&selected, stop_id] {
    selected = [stop_id](Context& ctx) { return stop_alloc(ctx, *stop_id); };
  });

  add_alloc_checks_command(*alloc, selected);

  auto* exec = alloc->add_subcommand("exec", "Run a command inside a running task: ALLOC TASK -- CMD [ARGS]");
  auto exec_opts = std::make_shared<ExecOptions>();
  exec->add_option("--timeout", exec_opts->timeout_s,
                   "Without -i and -t: seconds before the command is killed (default 30)")
      ->check(CLI::Range(1, 3600));
  exec->add_flag("-i,--interactive", exec_opts->interactive,
                 "Send our stdin to the command, interactively (Nomad's -i)");
  exec->add_flag("-t,--tty", exec_opts->tty,
                 "Give the command a terminal; ours is put in raw mode and its size follows");
  exec->add_option("alloc", exec_opts->alloc_id, "Allocation ID or unique prefix")->required();
  exec->add_option("task", exec_opts->task, "Task name")->required();
  exec->add_option("command", exec_opts->command, "The command and its arguments, after --")->required();
  exec->callback([&selected, exec_opts] {
    selected = [exec_opts](Context& ctx) { return exec_in_alloc(ctx, *exec_opts); };
  });

  for (const char* action : {"restart", "signal", "gc"}) {
    std::string name = action;
    auto* cmd = alloc->add_subcommand(
        name, name == "restart"  ? "Restart an allocation's running tasks, or one task"
              : name == "signal" ? "Send a signal to an allocation's tasks, or one task"
                                 : "Remove a finished allocation's dirs, logs and state");
    auto opts = std::make_shared<ControlOptions>();
    if (name == "signal") cmd->add_option("-s,--signal", opts->signal, "Signal name (default SIGKILL)");
    cmd->add_option("alloc", opts->alloc_id, "Allocation ID or unique prefix")->required();
    if (name != "gc") cmd->add_option("task", opts->task, "Task name (default: every running task)");
    cmd->callback([&selected, opts, name] {
      selected = [opts, name](Context& ctx) { return control_alloc(ctx, name, *opts); };
    });
  }
}

}  // namespace drover::cli
