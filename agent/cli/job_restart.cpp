// `drover job restart`, Nomad's (1.5): restarts the tasks of a job's running allocs in place,
// a batch at a time, waiting until each restarted task runs again before the next batch
// (docs/nomad-compat.md, "job restart"). Each restart is the alloc restart call the UI's
// Restart and `alloc restart` make; with -reschedule (a server), the alloc stop call instead,
// waiting until each replacement runs. A failed batch asks whether to go on (-on-error=ask,
// Nomad's default) or ends the command (fail); -batch-wait=ask asks before each next batch;
// -yes answers every prompt yes. A prompt read at EOF (no terminal) is a no.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "cli/command_context.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"
#include "jobspec/parse.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct RestartOptions {
  std::string job;
  std::vector<std::string> groups, tasks;
  bool all_tasks = false;
  std::string batch_size = "1";
  std::string batch_wait = "0s";  // a duration, or "ask": a prompt before each next batch
  std::string on_error = "ask";   // Nomad's default: a failed batch asks whether to go on
  bool reschedule = false;
  bool yes = false;  // Nomad's: every prompt answered yes (go on past errors, no waiting)
};

// How long one restarted task may take to run again before the command gives up.
constexpr auto kRunAgainTimeout = std::chrono::minutes(5);
const std::string kRunAgainText = "5 minutes";  // kRunAgainTimeout, as an error says it

std::string now_text() {
  return format_unix_nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
}

// -batch-size: a count, or a percentage of `running` rounded up (Nomad's); at least 1.
Result<std::size_t> batch_size(const std::string& text, std::size_t running) {
  const bool percent = !text.empty() && text.back() == '%';
  const std::string digits = percent ? text.substr(0, text.size() - 1) : text;
  if (digits.empty() || digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
      std::stoul(digits) == 0)
    return make_error("-batch-size: must be a number above 0 or a percentage like 25% (got \"" + text + "\")");
  const std::size_t n = std::stoul(digits);
  if (!percent) return n;
  return std::max<std::size_t>(1, (running * n + 99) / 100);
}

// The restart count of each running task of an alloc: the tasks a restart restarts.
std::map<std::string, int> running_restarts(const json& alloc) {
  std::map<std::string, int> out;
  if (alloc.contains("TaskStates") && alloc["TaskStates"].is_object())
    for (const auto& [name, st] : alloc["TaskStates"].items())
      if (st.value("State", "") == "running") out[name] = st.value("Restarts", 0);
  return out;
}

// -reschedule: stops each alloc of the batch through the server (`alloc stop`) and waits until
// the alloc that replaces it (its NextAllocation) runs. "" when all ran, else why not.
std::string reschedule_batch(Context& ctx, const std::vector<json>& batch) {
  std::vector<std::string> ids;
  for (const auto& a : batch) {
    const std::string id = a.value("ID", "");
    ctx.out << "    " << now_text() << ": Rescheduling allocation \"" << id.substr(0, 8)
            << "\" for group \"" << a.value("TaskGroup", "") << "\"\n";
    auto r = ctx.api.post_json("/v1/allocation/" + url_escape(id) + "/stop", "{}", "application/json");
    if (!r) return "stopping allocation \"" + id.substr(0, 8) + "\": " + r.message();
    ids.push_back(id);
  }
  const auto deadline = Clock::now() + kRunAgainTimeout;
  for (const auto& id : ids) {
    for (;;) {
      auto a = ctx.api.get_json("/v1/allocation/" + url_escape(id));
      if (!a) return a.message();
      const std::string next = a->value("NextAllocation", "");
      if (!next.empty()) {
        auto n = ctx.api.get_json("/v1/allocation/" + url_escape(next));
        if (!n) return n.message();
        const std::string status = n->value("ClientStatus", "");
        if (status == "running") {
          ctx.out << "    " << now_text() << ": Allocation \"" << id.substr(0, 8)
                  << "\" replaced by \"" << next.substr(0, 8) << "\" on node \""
                  << n->value("NodeID", "").substr(0, 8) << "\"\n";
          break;
        }
        if (status != "pending")
          return "allocation \"" + next.substr(0, 8) + "\", which replaces \"" + id.substr(0, 8) +
                 "\", is " + status;
      }
      if (Clock::now() > deadline)
        return "allocation \"" + id.substr(0, 8) + "\" was not replaced by a running one within " +
               kRunAgainText;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return "";
}

// Restarts the tasks of one batch in place and waits until each restarted task runs again
// with one more restart. "" when all did, else why not.
std::string restart_batch(Context& ctx, const RestartOptions& o,
                          const std::map<std::string, std::set<std::string>>& groups,
                          const std::vector<json>& batch) {
  // What each restarted task's count was, to know when it has run again.
  std::map<std::string, std::map<std::string, int>> before;
  for (const auto& alloc : batch) {
    const std::string id = alloc.value("ID", "");
    const std::string group = alloc.value("TaskGroup", "");
    auto current = ctx.api.get_json("/v1/allocation/" + url_escape(id));
    if (!current) return current.message();
    const auto counts = running_restarts(*current);
    std::vector<std::string> names;  // "" restarts every running task
    for (const auto& t : o.tasks)
      if (groups.contains(group) && groups.at(group).contains(t)) names.push_back(t);
    if (o.tasks.empty()) names.push_back("");
    for (const auto& t : names) {
      ctx.out << "    " << now_text() << ": Restarting "
              << (t.empty() ? std::string(o.all_tasks ? "all tasks" : "running tasks") : "task \"" + t + "\"")
              << " in allocation \"" << id.substr(0, 8) << "\" for group \"" << group << "\"\n";
      json body = t.empty() ? json{{"AllTasks", o.all_tasks}} : json{{"TaskName", t}};
      auto r = ctx.api.post_json("/v1/client/allocation/" + url_escape(id) + "/restart", body.dump(),
                                 "application/json");
      if (!r) return "restarting allocation \"" + id.substr(0, 8) + "\": " + r.message();
      for (const auto& [name, n] : counts)
        if (t.empty() || name == t) before[id][name] = n;
    }
  }
  // The batch is done when every task that ran before runs again with one more restart.
  const auto deadline = Clock::now() + kRunAgainTimeout;
  for (const auto& [id, counts] : before) {
    for (;;) {
      auto a = ctx.api.get_json("/v1/allocation/" + url_escape(id));
      if (!a) return a.message();
      bool again = true;
      for (const auto& [name, n] : counts) {
        const json st = (*a)["TaskStates"].value(name, json::object());
        if (st.value("Restarts", 0) <= n || st.value("State", "") != "running") again = false;
      }
      if (a->value("ClientStatus", "") != "running" && a->value("ClientStatus", "") != "pending")
        return "allocation \"" + id.substr(0, 8) + "\" is " + a->value("ClientStatus", "") +
               " after its restart";
      if (again) break;
      if (Clock::now() > deadline)
        return "allocation \"" + id.substr(0, 8) + "\": its tasks did not run again within " +
               kRunAgainText;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return "";
}

int restart_job(Context& ctx, const RestartOptions& o) {
  if (o.all_tasks && !o.tasks.empty()) return print_error(ctx, "-all-tasks cannot be used with -task");
  if (o.reschedule && (!o.tasks.empty() || o.all_tasks))
    return print_error(ctx, "-reschedule replaces whole allocs: it cannot be used with -task or -all-tasks");
  if (o.reschedule) {
    // Only a server places an alloc anew; an agent answers GET /v1/node (its own node).
    auto self = ctx.api.get("/v1/node");
    if (self && self->status == 200)
      return print_error(ctx, "-reschedule needs a drover server, which places each stopped alloc "
                              "anew; this agent restarts allocs in place (run without -reschedule)");
  }
  if (o.on_error != "ask" && o.on_error != "fail")
    return print_error(ctx, "-on-error: must be \"ask\" or \"fail\" (got \"" + o.on_error + "\")");
  const bool ask_between = o.batch_wait == "ask";
  auto wait = jobspec::parse_duration(ask_between ? "0s" : o.batch_wait);
  if (!wait) return print_error(ctx, "-batch-wait: " + wait.message() + " (or \"ask\")");
  auto job = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(o.job)));
  if (!job) return print_error(ctx, job.message());
  // Each group's tasks, to check -group and -task against.
  std::map<std::string, std::set<std::string>> groups;
  for (const auto& g : job->value("TaskGroups", json::array()))
    for (const auto& t : g.value("Tasks", json::array())) groups[g.value("Name", "")].insert(t.value("Name", ""));
  for (const auto& g : o.groups)
    if (!groups.contains(g)) return print_error(ctx, "group \"" + g + "\" not found in job \"" + o.job + "\"");
  for (const auto& t : o.tasks) {
    bool found = false;
    for (const auto& [g, tasks] : groups)
      if ((o.groups.empty() || std::count(o.groups.begin(), o.groups.end(), g)) && tasks.contains(t)) found = true;
    if (!found) return print_error(ctx, "task \"" + t + "\" not found in the job's selected groups");
  }
  auto allocs = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(o.job) + "/allocations"));
  if (!allocs) return print_error(ctx, allocs.message());
  std::vector<json> targets;
  // Running and meant to: an alloc already told to stop (its node has not said it did) is
  // neither restarted nor rescheduled.
  for (const auto& a : *allocs)
    if (a.value("ClientStatus", "") == "running" && a.value("DesiredStatus", "run") == "run" &&
        (o.groups.empty() || std::count(o.groups.begin(), o.groups.end(), a.value("TaskGroup", ""))))
      targets.push_back(a);
  if (targets.empty()) {
    ctx.out << "==> " << now_text() << ": No running allocations to restart\n";
    return 0;
  }
  auto size = batch_size(o.batch_size, targets.size());
  if (!size) return print_error(ctx, size.message());
  const std::size_t batches = (targets.size() + *size - 1) / *size;
  int failed = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t first = b * *size, last = std::min(targets.size(), first + *size);
    ctx.out << "==> " << now_text() << ": " << (o.reschedule ? "Rescheduling" : "Restarting")
            << " batch " << b + 1 << " of " << batches << " (" << last - first << " allocation"
            << (last - first == 1 ? "" : "s") << ")\n";
    const std::vector<json> batch(targets.begin() + first, targets.begin() + last);
    const std::string why = o.reschedule ? reschedule_batch(ctx, batch) : restart_batch(ctx, o, groups, batch);
    const bool more = b + 1 < batches;
    if (!why.empty()) {
      // Nomad's -on-error: fail ends here; ask lets the user go on past a failed batch.
      ++failed;
      if (o.on_error == "fail" || !more) return print_error(ctx, why);
      ctx.err << "Error: " << why << '\n';
      if (o.yes) {
        ctx.out << "==> " << now_text() << ": Going on with the next batch (-yes)\n";
      } else if (!ask_yes(ctx, "==> Batch " + std::to_string(b + 1) + " failed. Go on with the next batch?", false)) {
        return print_error(ctx, "job restart stopped after batch " + std::to_string(b + 1) + " of " +
                                    std::to_string(batches) + " failed");
      }
      continue;
    }
    if (!more) break;
    if (ask_between) {
      if (!o.yes && !ask_yes(ctx, "==> Go on with batch " + std::to_string(b + 2) + " of " +
                                      std::to_string(batches) + "?",
                             true))
        return print_error(ctx, "job restart canceled after batch " + std::to_string(b + 1) + " of " +
                                    std::to_string(batches));
    } else if (wait->count() > 0) {
      ctx.out << "==> " << now_text() << ": Waiting " << o.batch_wait << " before the next batch\n";
      std::this_thread::sleep_for(*wait);
    }
  }
  if (failed > 0)
    return print_error(ctx, "job restart finished with " + std::to_string(failed) + " failed batch" +
                                (failed == 1 ? "" : "es"));
  ctx.out << "==> " << now_text() << ": Job restart finished\n";
  return 0;
}

}  // namespace

void add_job_restart_command(CLI::App& job, Handler& selected) {
  auto* cmd = job.add_subcommand("restart", "Restart the tasks of a job's running allocs in place, a batch at a time");
  auto o = std::make_shared<RestartOptions>();
  cmd->add_flag("--all-tasks", o->all_tasks, "Nomad's: every task (drover restarts every running task either way)");
  cmd->add_option("--batch-size", o->batch_size, "Allocs per batch: a number or a percentage (default 1)");
  cmd->add_option("--batch-wait", o->batch_wait,
                  "Time to wait between batches, or \"ask\" to be asked before each (default 0s)");
  cmd->add_option("--on-error", o->on_error,
                  "When a batch fails: \"ask\" whether to go on (default), or \"fail\" at once");
  cmd->add_option("--group", o->groups, "Only this group's allocs (repeatable)");
  cmd->add_option("--task", o->tasks, "Only this task (repeatable)");
  cmd->add_flag("--reschedule", o->reschedule, "Stop each alloc and have the server place it anew");
  cmd->add_flag("-y,--yes", o->yes, "Answer yes to every prompt: go on past failed batches, no waiting");
  cmd->add_option("job", o->job, "The job")->required();
  cmd->callback([&selected, o] {
    selected = [o](Context& ctx) { return restart_job(ctx, *o); };
  });
}

}  // namespace drover::cli
