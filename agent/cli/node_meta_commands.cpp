// `drover node meta read|apply`, Nomad's (1.5): the node's metadata from
// /v1/client/metadata, and changes to its dynamic keys, which outlive an agent restart and
// go into the node a server places by. Against a server, -node-id names the node (the server
// passes the request on to it). docs/nomad-compat.md, "Node metadata".
#include <CLI/CLI.hpp>
#include <memory>
#include <sstream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

std::string meta_path(const std::string& node_id) {
  return "/v1/client/metadata" + (node_id.empty() ? "" : "?node_id=" + url_escape(node_id));
}

void print_meta(Context& ctx, const char* title, const json& m, bool first = false) {
  ctx.out << (first ? "" : "\n") << title << '\n';
  KeyValues rows;
  if (m.is_object())
    for (const auto& [k, v] : m.items()) rows.emplace_back(k, v.is_string() ? v.get<std::string>() : "<unset>");
  if (rows.empty()) ctx.out << "(none)\n";
  else render_key_values(ctx.out, rows);
}

int read_meta(Context& ctx, const std::string& node_id) {
  auto m = ctx.api.get_json(meta_path(node_id));
  if (!m) return print_error(ctx, m.message());
  if (ctx.json) {
    print_json(ctx, *m);
    return 0;
  }
  print_meta(ctx, "All Meta", m->value("Meta", json::object()), true);
  print_meta(ctx, "Dynamic Meta", m->value("Dynamic", json::object()));
  print_meta(ctx, "Static Meta", m->value("Static", json::object()));
  return 0;
}

int apply_meta(Context& ctx, const std::string& node_id, const std::vector<std::string>& pairs,
               const std::string& unset) {
  json meta = json::object();
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return print_error(ctx, "\"" + p + "\": metadata is given as key=value");
    meta[p.substr(0, eq)] = p.substr(eq + 1);
  }
  std::istringstream keys(unset);
  for (std::string k; std::getline(keys, k, ',');)
    if (!k.empty()) meta[k] = nullptr;
  if (meta.empty()) return print_error(ctx, "nothing to apply: give key=value pairs or -unset keys");
  json body = {{"Meta", meta}};
  if (!node_id.empty()) body["NodeID"] = node_id;
  auto r = ctx.api.post_json(meta_path(node_id), body.dump(), "application/json");
  if (!r) return print_error(ctx, r.message());
  if (ctx.json) print_json(ctx, *r);
  return 0;
}

}  // namespace

void add_node_meta_commands(CLI::App& node, Handler& selected) {
  auto* meta = node.add_subcommand("meta", "Read or change the node's metadata (`meta.*`)");
  meta->require_subcommand(1);

  auto* read = meta->add_subcommand("read", "Print the node's metadata: all, dynamic and static");
  auto read_node = std::make_shared<std::string>();
  read->add_option("--node-id", *read_node, "The node (against a server); default: the agent's own");
  read->callback([&selected, read_node] {
    selected = [read_node](Context& ctx) { return read_meta(ctx, *read_node); };
  });

  auto* apply = meta->add_subcommand(
      "apply", "Set (key=value) or unset (-unset k1,k2) dynamic metadata; it outlives a restart");
  auto apply_node = std::make_shared<std::string>();
  auto pairs = std::make_shared<std::vector<std::string>>();
  auto unset = std::make_shared<std::string>();
  apply->add_option("--node-id", *apply_node, "The node (against a server); default: the agent's own");
  apply->add_option("--unset", *unset, "Keys to remove, comma-separated (the config's too)");
  apply->add_option("pairs", *pairs, "key=value ...");
  apply->callback([&selected, apply_node, pairs, unset] {
    selected = [apply_node, pairs, unset](Context& ctx) {
      return apply_meta(ctx, *apply_node, *pairs, *unset);
    };
  });
}

}  // namespace drover::cli
