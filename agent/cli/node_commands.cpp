// `drover node status`: this node's identity, status, drivers' health and attributes; against
// a server (which has no single node), the cluster's nodes, or one of them by id.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"

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
  render_key_values(ctx.out, {{"ID", str_field(*node, "ID")},
                              {"Name", str_field(*node, "Name")},
                              {"DC", str_field(*node, "Datacenter")},
                              {"Status", str_field(*node, "Status")},
                              {"Drivers", driver_summary}});

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

// `node drain -enable|-disable <node>` and `node eligibility -enable|-disable <node>`, against
// a server: what the node may take from now on.
int node_control(Context& ctx, const std::string& what, bool enable, bool disable,
                 const std::string& id) {
  if (enable == disable) return print_error(ctx, "give one of -enable or -disable");
  nlohmann::json body;
  if (what == "drain")
    body = enable ? nlohmann::json{{"DrainSpec", {{"Deadline", 0}}}}
                  : nlohmann::json{{"DrainSpec", nullptr}, {"MarkEligible", true}};
  else
    body = {{"Eligibility", enable ? "eligible" : "ineligible"}};
  auto answer =
      ctx.api.post_json("/v1/node/" + url_escape(id) + "/" + what, body.dump(), "application/json");
  if (!answer) return print_error(ctx, answer.message());
  const std::string node = str_field(*answer, "NodeID");
  if (what == "drain")
    ctx.out << "Node \"" << node << "\" drain strategy " << (enable ? "set" : "unset") << '\n';
  else
    ctx.out << "Node \"" << node
            << "\" scheduling eligibility set: " << (enable ? "eligible" : "ineligible")
            << " for scheduling\n";
  return 0;
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
    cmd->add_flag("--enable", *enable, "Turn it on");
    cmd->add_flag("--disable", *disable, "Turn it off");
    cmd->add_option("node", *target, "The node's id or id prefix")->required();
    cmd->callback([&selected, what = std::string(what), enable, disable, target] {
      selected = [what, enable, disable, target](Context& ctx) {
        return node_control(ctx, what, *enable, *disable, *target);
      };
    });
  }
  status->callback([&selected, verbose, id] {
    selected = [verbose, id](Context& ctx) { return node_status(ctx, *verbose, *id); };
  });
}

}  // namespace drover::cli
