// `drover service list|info|delete`: the service catalog, as `nomad service ...` shows it.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"

namespace drover::cli {

namespace {

// "[a,b]", as Nomad's CLI prints tags.
std::string tag_list(const nlohmann::json& tags) {
  std::string out;
  if (tags.is_array())
    for (const auto& t : tags)
      if (t.is_string()) out += (out.empty() ? "" : ",") + t.get<std::string>();
  return "[" + out + "]";
}

std::string address_of(const nlohmann::json& r) {
  auto addr = str_field(r, "Address");
  if (addr.find(':') != std::string::npos) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(int_field(r, "Port"));
}

int service_list(Context& ctx) {
  auto list = ctx.api.get_json("/v1/services");
  if (!list) return print_error(ctx, list.message());
  if (ctx.json) {
    print_json(ctx, *list);
    return 0;
  }
  Table table({"Service Name", "Tags"});
  if (list->is_array())
    for (const auto& ns : *list)
      for (const auto& s : ns.value("Services", nlohmann::json::array()))
        table.add_row({str_field(s, "ServiceName"), tag_list(s.value("Tags", nlohmann::json()))});
  if (table.empty()) {
    ctx.out << "No services found\n";
    return 0;
  }
  table.render(ctx.out);
  return 0;
}

struct InfoOptions {
  std::string name, filter, choose, tag;
  bool verbose = false;
};

int service_info(Context& ctx, const InfoOptions& o) {
  std::string path = "/v1/service/" + url_escape(o.name);
  std::string query;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) query += (query.empty() ? "?" : "&") + std::string(k) + "=" + url_escape(v);
  };
  add("filter", o.filter);
  add("choose", o.choose);
  add("tag", o.tag);
  auto regs = ctx.api.get_json(path + query);
  if (!regs) return print_error(ctx, regs.message());
  if (ctx.json) {
    print_json(ctx, *regs);
    return 0;
  }
  if (!regs->is_array() || regs->empty()) {
    ctx.out << "No service registrations found\n";
    return 0;
  }
  if (o.verbose) {
    bool first = true;
    for (const auto& r : *regs) {
      if (!first) ctx.out << "\n";
      first = false;
      render_key_values(ctx.out, {{"ID", str_field(r, "ID")},
                                  {"Service Name", str_field(r, "ServiceName")},
                                  {"Namespace", str_field(r, "Namespace")},
                                  {"Job ID", str_field(r, "JobID")},
                                  {"Alloc ID", str_field(r, "AllocID")},
                                  {"Task", str_field(r, "Task")},
                                  {"Node ID", str_field(r, "NodeID")},
                                  {"Datacenter", str_field(r, "Datacenter")},
                                  {"Address", address_of(r)},
                                  {"Tags", tag_list(r.value("Tags", nlohmann::json()))},
                                  {"Provider", str_field(r, "Provider")}});
    }
    return 0;
  }
  Table table({"Job ID", "Address", "Tags", "Node ID", "Alloc ID"});
  for (const auto& r : *regs)
    table.add_row({str_field(r, "JobID"), address_of(r),
                   tag_list(r.value("Tags", nlohmann::json())), short_id(str_field(r, "NodeID")),
                   short_id(str_field(r, "AllocID"))});
  table.render(ctx.out);
  return 0;
}

int service_delete(Context& ctx, const std::string& name, const std::string& id) {
  auto r = ctx.api.del_json("/v1/service/" + url_escape(name) + "/" + url_escape(id));
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Successfully deleted service registration\n";
  return 0;
}

}  // namespace

void add_service_commands(CLI::App& app, Handler& selected) {
  auto* service = app.add_subcommand("service", "Inspect the service catalog");
  service->fallthrough();
  service->require_subcommand(1);

  auto* list = service->add_subcommand("list", "List the registered services and their tags");
  list->callback([&selected] { selected = [](Context& ctx) { return service_list(ctx); }; });

  auto* info = service->add_subcommand("info", "Show the registrations of one service");
  auto o = std::make_shared<InfoOptions>();
  info->add_option("name", o->name, "Service name")->required();
  info->add_flag("--verbose", o->verbose, "Every field of each registration");
  info->add_option("--filter", o->filter, "A filter expression, e.g. '\"db\" in Tags'");
  info->add_option("--choose", o->choose, "n|key: a stable pick of n instances");
  info->add_option("--tag", o->tag, "Only registrations with this tag");
  info->callback(
      [&selected, o] { selected = [o](Context& ctx) { return service_info(ctx, *o); }; });

  auto* del = service->add_subcommand("delete", "Deregister one service instance");
  auto name = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  del->add_option("name", *name, "Service name")->required();
  del->add_option("id", *id, "Registration ID")->required();
  del->callback([&selected, name, id] {
    selected = [name, id](Context& ctx) { return service_delete(ctx, *name, *id); };
  });
}

}  // namespace drover::cli
