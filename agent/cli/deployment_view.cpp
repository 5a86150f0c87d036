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

// The canaries placed: the deployment keeps their alloc ids (Nomad's PlacedCanaries).
int64_t placed_canaries(const nlohmann::json& g) {
  auto it = g.find("PlacedCanaries");
  if (it == g.end()) return 0;
  return it->is_array() ? static_cast<int64_t>(it->size()) : int_field(g, "PlacedCanaries");
}

// One group's counts as the deployment keeps them.
std::string group_counts(const nlohmann::json& g) {
  std::string out = std::to_string(int_field(g, "PlacedAllocs")) + "/" +
                    std::to_string(int_field(g, "DesiredTotal")) + " placed, " +
                    std::to_string(int_field(g, "HealthyAllocs")) + " healthy, " +
                    std::to_string(int_field(g, "UnhealthyAllocs")) + " unhealthy";
  if (int_field(g, "DesiredCanaries") > 0)
    out += ", canaries " + std::to_string(placed_canaries(g)) + "/" +
           std::to_string(int_field(g, "DesiredCanaries")) +
           (bool_field(g, "Promoted") ? " (promoted)" : "");
  return out;
}

}  // namespace

bool deployment_active(const nlohmann::json& d) {
  const std::string status = str_field(d, "Status");
  return status == "running" || status == "paused" || status == "pending";
}

void print_deployment_groups(Context& ctx, const nlohmann::json& d) {
  const auto groups = d.value("TaskGroups", nlohmann::json::object());
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
                             std::to_string(placed_canaries(g))});
    row.insert(row.end(), {std::to_string(int_field(g, "DesiredTotal")),
                           std::to_string(int_field(g, "PlacedAllocs")),
                           std::to_string(int_field(g, "HealthyAllocs")),
                           std::to_string(int_field(g, "UnhealthyAllocs")),
                           format_unix_nanos(int_field(g, "RequireProgressByNs"))});
    table.add_row(row);
  }
  table.render(ctx.out);
}

void print_latest_deployment(Context& ctx, const std::string& job_id) {
  auto d = latest_deployment(ctx, job_id);
  if (!d) return;
  ctx.out << "\nLatest Deployment\n";
  render_key_values(ctx.out, {{"ID", short_id(str_field(*d, "ID"))},
                              {"Job Version", std::to_string(int_field(*d, "JobVersion"))},
                              {"Status", str_field(*d, "Status")},
                              {"Description", str_field(*d, "StatusDescription")}});
  ctx.out << "\nDeployed\n";
  print_deployment_groups(ctx, *d);
}

int follow_deployment(Context& ctx, const std::string& id, const DeploymentWatchTiming& timing) {
  std::string last;
  bool announced = false;
  for (;;) {
    auto d = ctx.api.get_json(with_namespace(ctx, "/v1/deployment/" + url_escape(id)));
    if (!d) return print_error(ctx, d.message());
    if (!announced) {
      ctx.out << "==> Monitoring deployment \"" << short_id(str_field(*d, "ID")) << "\"\n";
      announced = true;
    }
    std::string now;
    const auto groups = d->value("TaskGroups", nlohmann::json::object());  // alive for the loop
    for (const auto& [name, g] : groups.items()) now += "    " + name + ": " + group_counts(g) + "\n";
    // A pause is worth a line of its own: the user waits on it, not on the allocs.
    if (str_field(*d, "Status") == "paused") now += "    (" + str_field(*d, "StatusDescription") + ")\n";
    if (now != last) {
      ctx.out << now;
      ctx.out.flush();
      last = now;
    }
    if (!deployment_active(*d)) {
      const std::string status = str_field(*d, "Status");
      ctx.out << "==> Deployment \"" << short_id(str_field(*d, "ID")) << "\" " << status;
      const std::string why = str_field(*d, "StatusDescription");
      ctx.out << (why.empty() ? "" : ": " + why) << '\n';
      return status == "successful" ? 0 : 2;
    }
    std::this_thread::sleep_for(timing.poll_interval);
  }
}

int watch_deployment(Context& ctx, const std::string& job_id, int64_t version,
                     const DeploymentWatchTiming& timing) {
  // An agent has no deployments API (its /v1/job/:id/deployments is no job's): nothing to
  // follow.
  if (!ctx.api.get_json(with_namespace(ctx, "/v1/job/" + url_escape(job_id) + "/deployments")))
    return 0;
  const auto appear_by = std::chrono::steady_clock::now() + timing.appear_within;
  // The version's deployment, once found, is followed by its id: a failure's auto-revert
  // makes another one the job's latest at once.
  for (;;) {
    auto d = latest_deployment(ctx, job_id);
    if (d && int_field(*d, "JobVersion") == version)
      return follow_deployment(ctx, str_field(*d, "ID"), timing);
    if (std::chrono::steady_clock::now() >= appear_by) return 0;  // this version has none
    std::this_thread::sleep_for(timing.poll_interval);
  }
}

}  // namespace drover::cli
