// `drover job history|revert|tag|scale|scaling-events`: a job's versions (a server's), going
// back to one (by number or tag), naming one, changing a group's count and the scaling events
// recorded, as Nomad's commands of the same names (docs/cluster.md).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <optional>
#include <ostream>

#include "cli/alloc_monitor.hpp"
#include "cli/eval_monitor.hpp"
#include "cli/command_context.hpp"
#include "cli/job_diff_view.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"

namespace drover::cli {

namespace {

// A version's tag name (Nomad 1.9's VersionTag), "" when it has none.
std::string tag_of(const nlohmann::json& version) {
  const auto& t = version.value("VersionTag", nlohmann::json());
  return t.is_object() ? str_field(t, "Name") : std::string();
}

int job_history(Context& ctx, const std::string& id, bool with_diffs) {
  auto v = ctx.api.get_json(with_namespace(
      ctx, "/v1/job/" + url_escape(id) + "/versions" + (with_diffs ? "?diffs=true" : "")));
  if (!v) return print_error(ctx, v.message());
  if (ctx.json) {
    print_json(ctx, *v);
    return 0;
  }
  if (with_diffs) {
    // Newest first, each with what changed from the version before it (Nomad's -p).
    const auto versions = v->value("Versions", nlohmann::json::array());
    const auto diffs = v->value("Diffs", nlohmann::json::array());
    for (std::size_t i = 0; i < versions.size(); ++i) {
      const auto& j = versions[i];
      ctx.out << (i ? "\n" : "") << "Version     = " << int_field(j, "Version") << '\n'
              << "Stable      = " << (bool_field(j, "Stable") ? "true" : "false") << '\n'
              << "Submit Date = " << format_unix_nanos(j.value("SubmitTime", int64_t{0})) << '\n';
      if (const auto tag = tag_of(j); !tag.empty()) {
        ctx.out << "Tag Name    = " << tag << '\n';
        if (const auto d = str_field(j["VersionTag"], "Description"); !d.empty())
          ctx.out << "Tag Description = " << d << '\n';
      }
      if (diffs.is_array() && i < diffs.size()) {
        ctx.out << "Diff        =\n";
        print_job_diff(ctx.out, diffs[i], nlohmann::json());
      }
    }
    return 0;
  }
  Table table({"Version", "Stable", "Stopped", "Submit Date", "Tag"});
  for (const auto& j : v->value("Versions", nlohmann::json::array()))
    table.add_row({std::to_string(int_field(j, "Version")), bool_field(j, "Stable") ? "true" : "false",
                   bool_field(j, "Stop") ? "true" : "false",
                   format_unix_nanos(j.value("SubmitTime", int64_t{0})), tag_of(j)});
  table.render(ctx.out);
  return 0;
}

// Prints what a scale or revert registered and follows its new allocs unless detached, as
// `job run` does.
int report_registration(Context& ctx, nlohmann::json answer, bool detach) {
  if (ctx.json) {
    print_json(ctx, answer);
    return 0;
  }
  if (!detach) await_evaluation(ctx, answer);
  const std::string status = str_field(answer, "EvalStatus");
  ctx.out << "==> Evaluation \"" << str_field(answer, "EvalID").substr(0, 8) << "\" "
          << (status.empty() ? "pending" : status) << "; job version "
          << int_field(answer, "JobModifyIndex") << '\n';
  std::vector<std::string> ids;
  for (const auto& a : answer.value("AllocIDs", nlohmann::json::array()))
    if (a.is_string()) ids.push_back(a.get<std::string>());
  if (detach || ids.empty()) return 0;
  return monitor_allocations(ctx, ids, AllocMonitorTiming{});
}

struct RevertOptions {
  std::string job;
  std::string version;  // a number, or a version tag's name (Nomad 1.9)
  bool detach = false;
};

// The version `arg` names: itself when it is a number, else the version tagged so.
Result<int> version_named(Context& ctx, const std::string& job, const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string::npos && arg.size() < 10)
    return std::stoi(arg);
  auto v = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(job) + "/versions"));
  if (!v) return v.error();
  for (const auto& j : v->value("Versions", nlohmann::json::array()))
    if (tag_of(j) == arg) return static_cast<int>(int_field(j, "Version"));
  return make_error("job \"" + job + "\" has no version tagged \"" + arg + "\"");
}

int job_revert(Context& ctx, const RevertOptions& o) {
  auto version = version_named(ctx, o.job, o.version);
  if (!version) return print_error(ctx, version.message());
  auto answer = ctx.api.post_json(
      with_namespace(ctx, "/v1/job/" + url_escape(o.job) + "/revert"),
      nlohmann::json{{"JobID", o.job}, {"JobVersion", *version}}.dump(), "application/json");
  if (!answer) return print_error(ctx, answer.message());
  return report_registration(ctx, *answer, o.detach);
}

struct ScaleOptions {
  std::string job;
  std::vector<std::string> rest;  // [group] count
  bool detach = false;
};

int job_scale(Context& ctx, const ScaleOptions& o) {
  // No count: the job's groups as they are (Nomad's `job scale` needs one; this shows it).
  if (o.rest.empty()) {
    auto s = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(o.job) + "/scale"));
    if (!s) return print_error(ctx, s.message());
    if (ctx.json) {
      print_json(ctx, *s);
      return 0;
    }
    Table table({"Task Group", "Desired", "Placed", "Running", "Healthy", "Unhealthy"});
    const auto groups = s->value("TaskGroups", nlohmann::json::object());  // alive for the loop
    for (const auto& [name, g] : groups.items())
      table.add_row({name, std::to_string(int_field(g, "Desired")),
                     std::to_string(int_field(g, "Placed")), std::to_string(int_field(g, "Running")),
                     std::to_string(int_field(g, "Healthy")),
                     std::to_string(int_field(g, "Unhealthy"))});
    table.render(ctx.out);
    return 0;
  }
  if (o.rest.size() > 2) return print_error(ctx, "usage: job scale <job> [<group>] <count>");
  const std::string& text = o.rest.back();
  int64_t count = 0;
  try {
    std::size_t used = 0;
    count = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    return print_error(ctx, "count: \"" + text + "\" is not a whole number");
  }
  nlohmann::json body = {{"Count", count}, {"Target", nlohmann::json::object()}};
  if (o.rest.size() == 2) body["Target"]["Group"] = o.rest[0];
  auto answer = ctx.api.post_json(with_namespace(ctx, "/v1/job/" + url_escape(o.job) + "/scale"),
                                  body.dump(), "application/json");
  if (!answer) return print_error(ctx, answer.message());
  return report_registration(ctx, *answer, o.detach);
}

// Nomad's `job scaling-events`: every group's events, newest first.
int job_scaling_events(Context& ctx, const std::string& job, bool verbose) {
  auto s = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(job) + "/scale"));
  if (!s) return print_error(ctx, s.message());
  std::vector<std::pair<std::string, nlohmann::json>> events;
  const auto groups = s->value("TaskGroups", nlohmann::json::object());  // alive for the loop
  for (const auto& [name, g] : groups.items())
    for (const auto& e : g.value("Events", nlohmann::json::array())) events.emplace_back(name, e);
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return int_field(a.second, "Time") > int_field(b.second, "Time");
  });
  if (ctx.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [group, e] : events) out.push_back({{"TaskGroup", group}, {"Event", e}});
    print_json(ctx, out);
    return 0;
  }
  if (events.empty()) {
    ctx.out << "No events found\n";
    return 0;
  }
  std::vector<std::string> head = {"Task Group", "Count", "PrevCount"};
  if (verbose) head.insert(head.end(), {"Error", "Message", "Eval ID"});
  head.push_back("Date");
  Table table(head);
  for (const auto& [group, e] : events) {
    const auto count = e.value("Count", nlohmann::json());
    std::vector<std::string> row = {group, count.is_number() ? count.dump() : "",
                                    std::to_string(int_field(e, "PreviousCount"))};
    if (verbose)
      row.insert(row.end(), {bool_field(e, "Error") ? "true" : "false", str_field(e, "Message"),
                             short_id(str_field(e, "EvalID"))});
    row.push_back(format_unix_nanos(int_field(e, "Time")));
    table.add_row(row);
  }
  table.render(ctx.out);
  return 0;
}

struct TagOptions {
  std::string job, name, description;
  std::optional<int> version;  // none: the latest
};

int job_tag_apply(Context& ctx, const TagOptions& o) {
  nlohmann::json body = {{"Description", o.description}};
  if (o.version) body["Version"] = *o.version;
  else body["Latest"] = true;
  auto r = ctx.api.put(with_namespace(ctx, "/v1/job/" + url_escape(o.job) + "/versions/" +
                                               url_escape(o.name) + "/tag"),
                       body.dump(), "application/json");
  if (!r) return print_error(ctx, r.message());
  auto answer = parse_api_json(*r);
  if (!answer) return print_error(ctx, answer.message());
  ctx.out << "Job version " << int_field(*answer, "Version") << " tagged with name \"" << o.name
          << "\"\n";
  return 0;
}

int job_tag_unset(Context& ctx, const TagOptions& o) {
  auto answer = ctx.api.del_json(with_namespace(
      ctx, "/v1/job/" + url_escape(o.job) + "/versions/" + url_escape(o.name) + "/tag"));
  if (!answer) return print_error(ctx, answer.message());
  ctx.out << "Tag \"" << o.name << "\" removed from job \"" << o.job << "\"\n";
  return 0;
}

}  // namespace

void add_job_version_commands(CLI::App& job, Handler& selected) {
  auto* tag = job.add_subcommand("tag", "Name a job version, to find and revert to it by name (server)");
  tag->fallthrough();
  tag->require_subcommand(1);
  auto to = std::make_shared<TagOptions>();
  auto* apply = tag->add_subcommand("apply", "Tag a version (the latest unless -version)");
  apply->add_option("--name", to->name, "The tag's name, unique among the job's versions")->required();
  apply->add_option("--description", to->description, "What the version is");
  apply->add_option_function<int>("--version", [to](int v) { to->version = v; },
                                  "The version to tag (default: the latest)");
  apply->add_option("job", to->job, "Job ID")->required();
  apply->callback([&selected, to] { selected = [to](Context& ctx) { return job_tag_apply(ctx, *to); }; });
  auto* unset = tag->add_subcommand("unset", "Take a tag off its version");
  unset->add_option("--name", to->name, "The tag's name")->required();
  unset->add_option("job", to->job, "Job ID")->required();
  unset->callback([&selected, to] { selected = [to](Context& ctx) { return job_tag_unset(ctx, *to); }; });

  auto* history = job.add_subcommand("history", "List a job's versions (server)");
  auto history_id = std::make_shared<std::string>();
  auto history_p = std::make_shared<bool>(false);
  history->add_flag("-p", *history_p, "Show each version's changes from the one before it");
  history->add_option("id", *history_id, "Job ID")->required();
  history->callback([&selected, history_id, history_p] {
    selected = [history_id, history_p](Context& ctx) {
      return job_history(ctx, *history_id, *history_p);
    };
  });

  auto* revert = job.add_subcommand("revert", "Run an earlier version of a job again (server)");
  auto ro = std::make_shared<RevertOptions>();
  revert->add_flag("--detach", ro->detach, "Return once submitted; do not wait for allocs");
  revert->add_option("id", ro->job, "Job ID")->required();
  revert->add_option("version", ro->version, "The version to revert to, or its tag's name")->required();
  revert->callback([&selected, ro] {
    selected = [ro](Context& ctx) { return job_revert(ctx, *ro); };
  });

  auto* scale = job.add_subcommand(
      "scale", "Set a group's count, within its scaling bounds: scale <job> [<group>] <count>; no count shows them");
  auto so = std::make_shared<ScaleOptions>();
  scale->add_flag("--detach", so->detach, "Return once submitted; do not wait for allocs");
  scale->add_option("id", so->job, "Job ID")->required();
  scale->add_option("args", so->rest, "[group] count");
  scale->callback([&selected, so] {
    selected = [so](Context& ctx) { return job_scale(ctx, *so); };
  });

  auto* events = job.add_subcommand("scaling-events", "List the scaling events of a job's groups, newest first");
  auto events_id = std::make_shared<std::string>();
  auto verbose = std::make_shared<bool>(false);
  events->add_flag("--verbose", *verbose, "Also show each event's error flag, message and evaluation");
  events->add_option("id", *events_id, "Job ID")->required();
  events->callback([&selected, events_id, verbose] {
    selected = [events_id, verbose](Context& ctx) {
      return job_scaling_events(ctx, *events_id, *verbose);
    };
  });
}

}  // namespace drover::cli
