// `drover node status`: this node's identity, status, drivers' health and attributes; against
// a server (which has no single node), the cluster's nodes, or one of them by id.
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <ostream>
#include <thread>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "jobspec/parse.hpp"

namespace drover::cli {

namespace {

// Nomad's three driver states: never worked or disabled, worked once and now not, working.
std::string driver_health(const nlohmann::json& driver) {
  if (!bool_field(driver, "Detected")) return "undetected";
  return bool_field(driver, "Healthy") ? "healthy" : "unhealthy";
}

void print_map(Context& ctx, const char* title, const nlohmann::json& map) {
  if (!map.is_object() || map.empty()) return;
  ctx.out << '\n' << title << '\n';
  KeyValues rows;
  // nlohmann's object keeps keys sorted.
  for (const auto& [key, value] : map.items()) {
    rows.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  render_key_values(ctx.out, rows);
}

// A server's list of nodes, as `nomad node status` prints it.
int node_list(Context& ctx) {
  auto nodes = ctx.api.get_json("/v1/nodes");
  if (!nodes) return print_error(ctx, nodes.message());
  if (ctx.json) {
    print_json(ctx, *nodes);
    return 0;
  }
  Table table({"ID", "Node Pool", "DC", "Name", "Eligibility", "Status"});
  for (const auto& n : *nodes)
    table.add_row({short_id(str_field(n, "ID")), str_field(n, "NodePool"),
                   str_field(n, "Datacenter"), str_field(n, "Name"),
                   str_field(n, "SchedulingEligibility"), str_field(n, "Status")});
  table.render(ctx.out);
  return 0;
}

int node_status(Context& ctx, bool verbose, const std::string& id) {
  Result<nlohmann::json> node = nlohmann::json();
  if (id.empty()) {
    auto raw = ctx.api.get("/v1/node");
    if (!raw) return print_error(ctx, raw.message());
    // A server answers 404 here: it has nodes, not a node.
    if (raw->status == 404) return node_list(ctx);
    node = parse_api_json(*raw);
  } else {
    node = ctx.api.get_json("/v1/node/" + url_escape(id));
  }
  if (!node) return print_error(ctx, node.message());
  if (ctx.json) {
    print_json(ctx, *node);
    return 0;
  }
  const auto drivers = node->value("Drivers", nlohmann::json::object());
  std::string driver_summary;
  if (drivers.is_object()) {
    for (const auto& [name, driver] : drivers.items()) {
      driver_summary +=
          (driver_summary.empty() ? "" : ", ") + name + " (" + driver_health(driver) + ")";
    }
  }
  KeyValues rows = {{"ID", str_field(*node, "ID")},
                    {"Name", str_field(*node, "Name")},
                    {"DC", str_field(*node, "Datacenter")},
                    {"Status", str_field(*node, "Status")}};
  // A down node (a server's record of it): why, and since when.
  if (auto why = str_field(*node, "StatusDescription"); !why.empty())
    rows.push_back({"Status Description", why});
  if (auto at = int_field(*node, "StatusUpdatedAt"); at > 0)
    rows.push_back({"Status Updated", format_unix_nanos(at * 1'000'000'000)});
  rows.push_back({"Drivers", driver_summary});
  render_key_values(ctx.out, rows);

  if (drivers.is_object() && !drivers.empty()) {
    ctx.out << "\nDrivers\n";
    Table table({"Driver", "Health", "Description"});
    for (const auto& [name, driver] : drivers.items()) {
      table.add_row({name, driver_health(driver), str_field(driver, "HealthDescription")});
    }
    table.render(ctx.out);
  }
  if (verbose) {
    print_map(ctx, "Attributes", node->value("Attributes", nlohmann::json::object()));
    print_map(ctx, "Meta", node->value("Meta", nlohmann::json::object()));
  }
  return 0;
}

// How `node drain -enable` drains: Nomad's flags and defaults (a 1h deadline).
struct DrainFlags {
  std::string deadline = "1h";
  bool no_deadline = false, force = false, ignore_system = false, detach = false;
};

// Waits until the server says the node's drain is over (complete, or ended by someone else),
// as `nomad node drain` does unless -detach; Ctrl-C stops watching, not the drain.
int watch_drain(Context& ctx, const std::string& node) {
  ctx.out << "==> Monitoring node \"" << node << "\" drain (Ctrl-C stops watching; the drain goes on)\n";
  int last_left = -1;
  for (;;) {
    auto n = ctx.api.get_json("/v1/node/" + url_escape(node));
    if (!n) return print_error(ctx, n.message());
    if (!bool_field(*n, "Drain")) {
      auto status = n->value("LastDrain", nlohmann::json::object()).value("Status", "");
      if (status == "complete") {
        ctx.out << "==> Node \"" << node << "\" drain complete: all its allocations have moved or stopped\n";
        return 0;
      }
      ctx.out << "==> Node \"" << node << "\" is no longer draining (the drain was ended)\n";
      return 0;
    }
    auto allocs = ctx.api.get_json("/v1/node/" + url_escape(node) + "/allocations");
    if (allocs && allocs->is_array()) {
      int left = 0;
      for (const auto& a : *allocs)
        left += str_field(a, "DesiredStatus") == "run" && str_field(a, "ClientStatus") != "complete" &&
                str_field(a, "ClientStatus") != "failed" && str_field(a, "ClientStatus") != "lost";
      if (left != last_left)
        ctx.out << "    " << left << " allocation" << (left == 1 ? "" : "s") << " left on the node\n";
      last_left = left;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

// `node drain -enable|-disable <node>` and `node eligibility -enable|-disable <node>`, against
// a server: what the node may take from now on.
int node_control(Context& ctx, const std::string& what, bool enable, bool disable,
                 const std::string& id, const DrainFlags& flags) {
  if (enable == disable) return print_error(ctx, "give one of -enable or -disable");
  nlohmann::json body;
  if (what == "drain" && enable) {
    // Nomad's DrainSpec.Deadline: 0 none, -1 force, else the duration in ns.
    int64_t deadline = 0;
    if (flags.force) {
      deadline = -1;
    } else if (!flags.no_deadline) {
      auto d = jobspec::parse_duration(flags.deadline);
      if (!d) return print_error(ctx, "-deadline: " + d.message());
      deadline = d->count();
      if (deadline <= 0) return print_error(ctx, "-deadline: must be positive (or -no-deadline)");
    }
    body = {{"DrainSpec", {{"Deadline", deadline}, {"IgnoreSystemJobs", flags.ignore_system}}}};
  } else if (what == "drain") {
    body = {{"DrainSpec", nullptr}, {"MarkEligible", true}};
  } else {
    body = {{"Eligibility", enable ? "eligible" : "ineligible"}};
  }
  auto answer =
      ctx.api.post_json("/v1/node/" + url_escape(id) + "/" + what, body.dump(), "application/json");
  if (!answer) return print_error(ctx, answer.message());
  const std::string node = str_field(*answer, "NodeID");
  if (what != "drain") {
    ctx.out << "Node \"" << node
            << "\" scheduling eligibility set: " << (enable ? "eligible" : "ineligible")
            << " for scheduling\n";
    return 0;
  }
  ctx.out << "Node \"" << node << "\" drain strategy " << (enable ? "set" : "unset") << '\n';
  return enable && !flags.detach ? watch_drain(ctx, node) : 0;
}

}  // namespace

void add_node_commands(CLI::App& app, Handler& selected) {
  auto* node = app.add_subcommand("node", "Inspect this node");
  node->fallthrough();
  node->require_subcommand(1);

  auto* status = node->add_subcommand("status", "Show this node's status and drivers");
  auto verbose = std::make_shared<bool>(false);
  status->add_flag("--verbose", *verbose, "Also list every node attribute");
  auto id = std::make_shared<std::string>();
  status->add_option("node", *id, "A node's id or id prefix (against a server)");
  for (const char* what : {"drain", "eligibility"}) {
    auto* cmd = node->add_subcommand(
        what, std::string(what) == "drain"
                  ? "Drain a node (server): its allocs move elsewhere, it takes no new ones"
                  : "Make a node (server) eligible or ineligible for new allocs");
    auto enable = std::make_shared<bool>(false), disable = std::make_shared<bool>(false);
    auto target = std::make_shared<std::string>();
    auto flags = std::make_shared<DrainFlags>();
    cmd->add_flag("--enable", *enable, "Turn it on");
    cmd->add_flag("--disable", *disable, "Turn it off");
    if (std::string(what) == "drain") {
      cmd->add_option("--deadline", flags->deadline,
                      "Allocations still on the node after this long are moved regardless of "
                      "their migrate block (default 1h)");
      cmd->add_flag("--no-deadline", flags->no_deadline, "Never force: migrate blocks only");
      cmd->add_flag("--force", flags->force, "Move every allocation off the node at once");
      cmd->add_flag("--ignore-system", flags->ignore_system, "Leave system jobs' allocations");
      cmd->add_flag("--detach", flags->detach, "Return at once instead of watching the drain");
    }
    cmd->add_option("node", *target, "The node's id or id prefix")->required();
    cmd->callback([&selected, what = std::string(what), enable, disable, target, flags] {
      selected = [what, enable, disable, target, flags](Context& ctx) {
        return node_control(ctx, what, *enable, *disable, *target, *flags);
      };
    });
  }
  status->callback([&selected, verbose, id] {
    selected = [verbose, id](Context& ctx) { return node_status(ctx, *verbose, *id); };
  });
  add_node_meta_commands(*node, selected);
  add_node_pool_commands(*node, selected);
}

}  // namespace drover::cli
