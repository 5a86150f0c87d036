// `drover volume create|register|status|delete`, Nomad's (1.10) volume commands for dynamic
// host volumes (docs/volumes.md). create and register read Nomad's volume specification, HCL
// (`name = "data"  type = "host"  plugin_id = "mkdir"  capability { ... }  constraint { ... }
// parameters { ... }`)
// or JSON ({"Volume": {...}} or the volume alone).
#include <CLI/CLI.hpp>
#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"
#include "jobspec/hcl/hcl.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

// A size as Nomad's volume specs write it ("50mb", "1GiB", "500000"): bytes, or why not.
Result<int64_t> parse_bytes(const std::string& field, const json& v) {
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
  if (!v.is_string()) return make_error(field + ": must be a size such as \"10GiB\" or \"500mb\"");
  const std::string s = v.get<std::string>();
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  std::string unit;
  for (std::size_t j = i; j < s.size(); ++j)
    if (s[j] != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(s[j])));
  static const std::map<std::string, double> kUnits = {
      {"", 1},         {"b", 1},          {"k", 1e3},        {"kb", 1e3},        {"m", 1e6},
      {"mb", 1e6},     {"g", 1e9},        {"gb", 1e9},       {"t", 1e12},        {"tb", 1e12},
      {"ki", 1024.0},  {"kib", 1024.0},   {"mi", 1048576.0}, {"mib", 1048576.0}, {"gi", 1073741824.0},
      {"gib", 1073741824.0}, {"ti", 1099511627776.0}, {"tib", 1099511627776.0}};
  auto u = kUnits.find(unit);
  double n = 0;
  try {
    std::size_t used = 0;
    n = i == 0 ? -1 : std::stod(s.substr(0, i), &used);
    if (used != i) n = -1;
  } catch (const std::exception&) {
    n = -1;
  }
  if (n < 0 || u == kUnits.end())
    return make_error(field + ": \"" + s + "\" is not a size (a number and B, KB, MB, GB, TB, "
                      "KiB, MiB, GiB or TiB)");
  return static_cast<int64_t>(n * u->second);
}

// Nomad's volume specification as the API's Volume.
Result<json> read_volume_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return make_error(path + ": not a JSON object");
    return j.contains("Volume") ? j["Volume"] : j;
  }
  auto body = jobspec::hcl::parse(text);
  if (!body) return make_error(path + ": " + body.message());
  json v = {{"Parameters", json::object()}, {"RequestedCapabilities", json::array()}};
  std::string type;
  auto at = [&](const jobspec::hcl::Pos& p) { return path + ": line " + std::to_string(p.line) + ": "; };
  static const std::map<std::string, const char*> kStrings = {
      {"id", "ID"},           {"name", "Name"},          {"namespace", "Namespace"},
      {"plugin_id", "PluginID"}, {"node_id", "NodeID"},   {"node_pool", "NodePool"},
      {"host_path", "HostPath"}};
  for (const auto& a : body->attributes) {
    if (a.name == "type") {
      if (!a.value.is_string()) return make_error(at(a.pos) + "type: must be a string");
      type = a.value.get<std::string>();
    } else if (auto s = kStrings.find(a.name); s != kStrings.end()) {
      if (!a.value.is_string()) return make_error(at(a.pos) + a.name + ": must be a string");
      v[s->second] = a.value;
    } else if (a.name == "capacity_min" || a.name == "capacity_max" || a.name == "capacity") {
      auto n = parse_bytes(a.name, a.value);
      if (!n) return make_error(at(a.pos) + n.message());
      v[a.name == "capacity_min"   ? "RequestedCapacityMinBytes"
        : a.name == "capacity_max" ? "RequestedCapacityMaxBytes"
                                   : "CapacityBytes"] = *n;
    } else if (a.name == "parameters") {
      if (!a.value.is_object()) return make_error(at(a.pos) + "parameters: must be a map");
      v["Parameters"] = a.value;
    } else {
      return make_error(at(a.pos) + "a volume specification has no \"" + a.name +
                        "\" (name, type, plugin_id, node_id, node_pool, host_path, "
                        "capacity, capacity_min, capacity_max, parameters, capability, "
                        "constraint)");
    }
  }
  for (const auto& b : body->blocks) {
    if (b.type == "parameters") {
      for (const auto& a : b.body.attributes) v["Parameters"][a.name] = a.value;
    } else if (b.type == "capability") {
      json c = json::object();
      for (const auto& a : b.body.attributes) {
        if (a.name == "access_mode") c["AccessMode"] = a.value;
        else if (a.name == "attachment_mode") c["AttachmentMode"] = a.value;
        else
          return make_error(at(a.pos) + "capability has no \"" + a.name +
                            "\" (access_mode, attachment_mode)");
      }
      v["RequestedCapabilities"].push_back(c);
    } else if (b.type == "constraint") {
      // Nomad's {LTarget, Operand, RTarget}; the agent or server checks the operator.
      json c = {{"Operand", "="}};
      for (const auto& a : b.body.attributes) {
        static const std::map<std::string, const char*> kFields = {
            {"attribute", "LTarget"}, {"operator", "Operand"}, {"value", "RTarget"}};
        auto f = kFields.find(a.name);
        if (f == kFields.end())
          return make_error(at(a.pos) + "constraint has no \"" + a.name +
                            "\" (attribute, operator, value)");
        if (!a.value.is_string() && !a.value.is_number() && !a.value.is_boolean())
          return make_error(at(a.pos) + "constraint." + a.name + ": must be a string");
        c[f->second] = a.value.is_string() ? a.value.get<std::string>() : a.value.dump();
      }
      if (!v.contains("Constraints")) v["Constraints"] = json::array();
      v["Constraints"].push_back(c);
    } else {
      return make_error(at(b.pos) + "a volume specification has no \"" + b.type +
                        "\" block (capability, constraint, parameters)");
    }
  }
  // Nomad passes parameters as strings: a number written bare (uid = 1000) becomes its text.
  for (auto& [k, p] : v["Parameters"].items())
    if (!p.is_string()) p = p.dump();
  if (type.empty()) return make_error(path + ": type: is required (\"host\")");
  if (type == "csi") return make_error(path + ": type: csi volumes are not supported by drover "
                                              "(use type = \"host\")");
  if (type != "host") return make_error(path + ": type: must be \"host\" (got \"" + type + "\")");
  return v;
}

int write_volume(Context& ctx, const std::string& file, bool registering) {
  auto v = read_volume_file(file);
  if (!v) return print_error(ctx, v.message());
  const std::string endpoint = registering ? "/v1/volume/host/register" : "/v1/volume/host/create";
  auto r = ctx.api.post_json(endpoint, json{{"Volume", *v}}.dump(), "application/json");
  if (!r) return print_error(ctx, r.message());
  const json made = r->value("Volume", json::object());
  ctx.out << (registering ? "Registered" : "Created") << " host volume \""
          << str_field(made, "Name") << "\" with ID " << str_field(made, "ID") << "\n";
  return 0;
}

// The host volume an id prefix or a name names, or why none.
Result<std::string> resolve(Context& ctx, const std::string& what) {
  auto list = ctx.api.get_json(with_namespace(ctx, "/v1/volumes?type=host"));
  if (!list) return make_error(list.message());
  std::vector<std::string> ids;
  for (const auto& v : list->is_array() ? *list : json::array()) {
    const std::string id = str_field(v, "ID");
    if (id == what || str_field(v, "Name") == what) return id;
    if (id.rfind(what, 0) == 0) ids.push_back(id);
  }
  if (ids.size() == 1) return ids[0];
  if (ids.empty()) return make_error("no host volume with ID or name \"" + what + "\"");
  return make_error("prefix \"" + what + "\" matches " + std::to_string(ids.size()) +
                    " host volumes: give more of the ID");
}

int volume_status(Context& ctx, const std::string& type, const std::string& what) {
  if (type == "csi") {
    ctx.out << "No CSI volumes (drover has no CSI plugins)\n";
    return 0;
  }
  if (!type.empty() && type != "host") return print_error(ctx, "-type: must be host or csi");
  if (what.empty())
    return print_list(ctx, with_namespace(ctx, "/v1/volumes?type=host"),
                      {{"ID", "ID"}, {"Name", "Name"}, {"Namespace", "Namespace"},
                       {"Plugin ID", "PluginID"}, {"Node ID", "NodeID"}, {"Node Pool", "NodePool"},
                       {"State", "State"}});
  auto id = resolve(ctx, what);
  if (!id) return print_error(ctx, id.message());
  auto v = ctx.api.get_json("/v1/volume/host/" + url_escape(*id));
  if (!v) return print_error(ctx, v.message());
  if (ctx.json) {
    print_json(ctx, *v);
    return 0;
  }
  render_key_values(ctx.out, {{"ID", str_field(*v, "ID")},
                              {"Name", str_field(*v, "Name")},
                              {"Namespace", str_field(*v, "Namespace")},
                              {"Plugin ID", str_field(*v, "PluginID")},
                              {"Node ID", str_field(*v, "NodeID")},
                              {"Node Pool", str_field(*v, "NodePool")},
                              {"Capacity", std::to_string(int_field(*v, "CapacityBytes")) + " B"},
                              {"State", str_field(*v, "State")},
                              {"Host Path", str_field(*v, "HostPath")}});
  const json constraints = v->value("Constraints", json::array());  // alive for the loop
  if (constraints.is_array() && !constraints.empty()) {
    ctx.out << "\nConstraints\n";
    Table table({"Attribute", "Operator", "Value"});
    for (const auto& c : constraints)
      table.add_row({str_field(c, "LTarget"), str_field(c, "Operand"), str_field(c, "RTarget")});
    table.render(ctx.out);
  }
  ctx.out << "\nAllocations\n";
  const json allocs = v->value("Allocations", json::array());  // alive for the loop
  if (!allocs.is_array() || allocs.empty()) {
    ctx.out << "No allocations placed\n";
    return 0;
  }
  Table table({"ID", "Job ID", "Task Group", "Status"});
  for (const auto& a : allocs)
    table.add_row({short_id(str_field(a, "ID")), str_field(a, "JobID"), str_field(a, "TaskGroup"),
                   str_field(a, "ClientStatus")});
  table.render(ctx.out);
  return 0;
}

int volume_delete(Context& ctx, const std::string& type, const std::string& what) {
  if (!type.empty() && type != "host")
    return print_error(ctx, "-type: drover has host volumes only");
  auto id = resolve(ctx, what);
  if (!id) return print_error(ctx, id.message());
  auto r = ctx.api.del_json("/v1/volume/host/" + url_escape(*id));
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Successfully deleted volume \"" << *id << "\"!\n";
  return 0;
}

}  // namespace

void add_volume_commands(CLI::App& app, Handler& selected) {
  auto* volume = app.add_subcommand("volume", "Create, register, list and delete dynamic host volumes");
  volume->require_subcommand(1);
  for (const bool registering : {false, true}) {
    auto* sub = volume->add_subcommand(
        registering ? "register" : "create",
        registering ? "Register a directory that exists as a host volume (host_path, node_id)"
                    : "Create a host volume with its plugin (mkdir unless plugin_id says)");
    auto file = std::make_shared<std::string>();
    sub->add_option("file", *file, "the volume specification (HCL or JSON)")->required();
    sub->callback([&selected, file, registering] {
      selected = [file, registering](Context& ctx) { return write_volume(ctx, *file, registering); };
    });
  }
  auto* status = volume->add_subcommand("status", "List host volumes, or show one (ID prefix or name)");
  auto type = std::make_shared<std::string>();
  auto what = std::make_shared<std::string>();
  status->add_option("--type", *type, "host or csi");
  status->add_option("id", *what, "a volume's ID, ID prefix or name");
  status->callback([&selected, type, what] {
    selected = [type, what](Context& ctx) { return volume_status(ctx, *type, *what); };
  });
  auto* del = volume->add_subcommand("delete", "Delete a host volume no live alloc mounts");
  auto del_type = std::make_shared<std::string>();
  auto del_what = std::make_shared<std::string>();
  del->add_option("--type", *del_type, "host");
  del->add_option("id", *del_what, "a volume's ID, ID prefix or name")->required();
  del->callback([&selected, del_type, del_what] {
    selected = [del_type, del_what](Context& ctx) { return volume_delete(ctx, *del_type, *del_what); };
  });
}

}  // namespace drover::cli
