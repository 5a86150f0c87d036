// `drover operator scheduler get-config|set-config` against a server: the cluster's scheduler
// algorithm and preemption per scheduler type, as Nomad's commands of the same names show and
// change them (/v1/operator/scheduler/configuration; docs/cluster.md, "Placement").
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <ostream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"

namespace drover::cli {

namespace {

const char* const kPath = "/v1/operator/scheduler/configuration";

// Nomad's flag names and PreemptionConfig keys, in Nomad's display order.
struct PreemptFlag {
  const char* flag;     // --preempt-<type>-scheduler
  const char* key;      // PreemptionConfig key
  const char* display;  // get-config's label
};
constexpr PreemptFlag kFlags[] = {
    {"--preempt-system-scheduler", "SystemSchedulerEnabled", "Preemption System Scheduler"},
    {"--preempt-service-scheduler", "ServiceSchedulerEnabled", "Preemption Service Scheduler"},
    {"--preempt-batch-scheduler", "BatchSchedulerEnabled", "Preemption Batch Scheduler"},
    {"--preempt-sysbatch-scheduler", "SysBatchSchedulerEnabled", "Preemption SysBatch Scheduler"},
};

std::string bool_text(const nlohmann::json& v) {
  return v.is_boolean() ? (v.get<bool>() ? "true" : "false") : "false";
}

int get_config(Context& ctx) {
  auto answer = ctx.api.get_json(kPath);
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  const auto cfg = answer->value("SchedulerConfig", nlohmann::json::object());
  const auto pre = cfg.value("PreemptionConfig", nlohmann::json::object());
  KeyValues rows{{"Scheduler Algorithm", str_field(cfg, "SchedulerAlgorithm")}};
  for (const auto& f : kFlags) rows.emplace_back(f.display, bool_text(pre.value(f.key, false)));
  rows.emplace_back("Modify Index", std::to_string(int_field(cfg, "ModifyIndex")));
  render_key_values(ctx.out, rows);
  return 0;
}

struct SetOptions {
  std::string algorithm;
  std::map<std::string, std::string> preempt;  // PreemptionConfig key -> "true" | "false"
};

int set_config(Context& ctx, const SetOptions& o) {
  nlohmann::json body = nlohmann::json::object();
  if (!o.algorithm.empty()) body["SchedulerAlgorithm"] = o.algorithm;
  for (const auto& [key, v] : o.preempt) {
    if (v.empty()) continue;
    if (v != "true" && v != "false")
      return print_error(ctx, std::string("preemption flags take true or false, not \"") + v + "\"");
    body["PreemptionConfig"][key] = v == "true";
  }
  if (body.empty())
    return print_error(ctx, "nothing to set: give -scheduler-algorithm or a -preempt-* flag");
  auto answer = ctx.api.post_json(kPath, body.dump(), "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << "Scheduler configuration updated!\n";
  return 0;
}

}  // namespace

void add_operator_scheduler_commands(CLI::App& op, Handler& selected) {
  auto* sched = op.add_subcommand("scheduler", "The cluster's scheduler configuration (a server)");
  sched->fallthrough();
  sched->require_subcommand(1);
  auto* get = sched->add_subcommand("get-config", "Show the scheduler algorithm and preemption");
  get->callback([&selected] { selected = [](Context& ctx) { return get_config(ctx); }; });
  auto* set = sched->add_subcommand("set-config", "Change the scheduler algorithm or preemption");
  auto o = std::make_shared<SetOptions>();
  set->add_option("--scheduler-algorithm", o->algorithm, "binpack or spread")
      ->check(CLI::IsMember({"binpack", "spread"}));
  for (const auto& f : kFlags)
    set->add_option(f.flag, o->preempt[f.key], "true or false");
  set->callback([&selected, o] { selected = [o](Context& ctx) { return set_config(ctx, *o); }; });
}

}  // namespace drover::cli
