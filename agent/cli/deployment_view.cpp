// A job's deployment in the CLI; see deployment_view.hpp.
#include "cli/deployment_view.hpp"

#include <ostream>
#include <thread>

#include "cli/table.hpp"
#include "cli/time_format.hpp"

namespace drover::cli {

namespace {

std::optional<nlohmann::json> latest_deployment(Context& ctx, const std::string& job_id) {
  auto d = ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(job_id) + "/deployment"));
  if (!d || !d->is_object() || str_field(*d, "ID").empty()) return std::nullopt;
  return *d;
}

// One group's counts as the deployment keeps them.
std::string group_counts(const nlohmann::json& g) {
  std::string out = std::to_string(int_field(g, "PlacedAllocs")) + "/" +
                    std::to_string(int_field(g, "DesiredTotal")) + " placed, " +
                    std::to_string(int_field(g, "HealthyAllocs")) + " healthy, " +
                    std::to_string(int_field(g, "UnhealthyAllocs")) + " unhealthy";
  if (int_field(g, "DesiredCanaries") > 0)
    out += ", canaries " + std::to_string(int_field(g, "PlacedCanaries")) + "/" +
           std::to_string(int_field(g, "DesiredCanaries")) +
           (bool_field(g, "Promoted") ? " (promoted)" : "");
  return out;
}

}  // namespace

void print_latest_deployment(Context& ctx, const std::string& job_id) {
  auto d = latest_deployment(ctx, job_id);
  if (!d) return;
  ctx.out << "\nLatest Deployment\n";
  render_key_values(ctx.out, {{"ID", short_id(str_field(*d, "ID"))},
                              {"Job Version", std::to_string(int_field(*d, "JobVersion"))},
                              {"Status", str_field(*d, "Status")},
                              {"Description", str_field(*d, "StatusDescription")}});
  ctx.out << "\nDeployed\n";
  const auto groups = d->value("TaskGroups", nlohmann::json::object());
  bool canaries = false;
  for (const auto& [name, g] : groups.items()) canaries |= int_field(g, "DesiredCanaries") > 0;
  std::vector<std::string> head = {"Task Group"};
  if (canaries) head.insert(head.end(), {"Promoted", "Desired Canaries", "Placed Canaries"});
  head.insert(head.end(), {"Desired", "Placed", "Healthy", "Unhealthy", "Progress Deadline"});
  Table table(head);
  for (const auto& [name, g] : groups.items()) {
    std::vector<std::string> row = {name};
    if (canaries)
      row.insert(row.end(), {bool_field(g, "Promoted") ? "true" : "false",
                             std::to_string(int_field(g, "DesiredCanaries")),
                             std::to_string(int_field(g, "PlacedCanaries"))});
    row.insert(row.end(), {std::to_string(int_field(g, "DesiredTotal")),
                           std::to_string(int_field(g, "PlacedAllocs")),
                           std::to_string(int_field(g, "HealthyAllocs")),
                           std::to_string(int_field(g, "UnhealthyAllocs")),
                           format_unix_nanos(int_field(g, "RequireProgressByNs"))});
    table.add_row(row);
  }
  table.render(ctx.out);
}

int watch_deployment(Context& ctx, const std::string& job_id, int64_t version,
                     const DeploymentWatchTiming& timing) {
  // An agent has no deployments API (its /v1/job/:id/deployments is no job's): nothing to
  // follow.
  if (!ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(job_id) + "/deployments")))
    return 0;
  const auto appear_by = std::chrono::steady_clock::now() + timing.appear_within;
  std::string last;
  std::string followed;  // the version's deployment, once found: followed by its id, since a
                         // failure's auto-revert makes another one the job's latest at once
  for (;;) {
    std::optional<nlohmann::json> d;
    if (followed.empty()) {
      d = latest_deployment(ctx, job_id);
    } else if (auto got = ctx.api.get_json(
                   with_namespace(ctx, "/v1/deployment/" + url_escape(followed)))) {
      d = got.value();
    }
    const bool mine = d && d->is_object() && int_field(*d, "JobVersion") == version;
    if (!mine) {
      if (std::chrono::steady_clock::now() >= appear_by) return 0;  // this version has none
      std::this_thread::sleep_for(timing.poll_interval);
      continue;
    }
    if (followed.empty()) {
      followed = str_field(*d, "ID");
      ctx.out << "==> Monitoring deployment \"" << short_id(followed) << "\"\n";
    }
    const std::string status = str_field(*d, "Status");
    std::string now;
    const auto groups = d->value("TaskGroups", nlohmann::json::object());  // alive for the loop
    for (const auto& [name, g] : groups.items()) now += "    " + name + ": " + group_counts(g) + "\n";
    if (now != last) {
      ctx.out << now;
      ctx.out.flush();
      last = now;
    }
    if (status != "running" && status != "paused" && status != "pending") {
      ctx.out << "==> Deployment \"" << short_id(str_field(*d, "ID")) << "\" " << status;
      const std::string why = str_field(*d, "StatusDescription");
      ctx.out << (why.empty() ? "" : ": " + why) << '\n';
      return status == "successful" ? 0 : 2;
    }
    std::this_thread::sleep_for(timing.poll_interval);
  }
}

}  // namespace drover::cli
