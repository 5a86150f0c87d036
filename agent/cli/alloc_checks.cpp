// `drover alloc checks ALLOC`, Nomad's (1.4): the latest result of each of the alloc's Nomad
// service checks, from GET /v1/client/allocation/:id/checks (an id prefix works; a server passes
// it on to the alloc's node), as Nomad prints them; -json prints the API's answer.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

int alloc_checks(Context& ctx, const std::string& alloc) {
  auto checks = ctx.api.get_json("/v1/client/allocation/" + url_escape(alloc) + "/checks");
  if (!checks) return print_error(ctx, checks.message());
  if (ctx.json) {
    print_json(ctx, *checks);
    return 0;
  }
  std::vector<json> list;
  for (const auto& [id, c] : checks->items()) list.push_back(c);
  // Nomad's order is its map's; here by service, then check, so that runs compare.
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return std::pair(a.value("Service", ""), a.value("Check", "")) < std::pair(b.value("Service", ""), b.value("Check", ""));
  });
  ctx.out << "Status of " << list.size() << " Nomad Service Checks\n\n";
  for (const auto& c : list) {
    KeyValues rows = {{"ID", c.value("ID", "")},
                      {"Name", c.value("Check", "")},
                      {"Group", c.value("Group", "")},
                      {"Task", c.value("Task", "").empty() ? "(group)" : c.value("Task", "")},
                      {"Service", c.value("Service", "")},
                      {"Status", c.value("Status", "")}};
    if (c.value("StatusCode", 0) > 0) rows.emplace_back("StatusCode", std::to_string(c.value("StatusCode", 0)));
    rows.emplace_back("Mode", c.value("Mode", ""));
    rows.emplace_back("Timestamp", format_unix_nanos(c.value("Timestamp", int64_t{0}) * 1000000000LL));
    rows.emplace_back("Output", c.value("Output", ""));
    render_key_values(ctx.out, rows);
    ctx.out << "\n";
  }
  return 0;
}

}  // namespace

void add_alloc_checks_command(CLI::App& alloc, Handler& selected) {
  auto* cmd = alloc.add_subcommand("checks", "Show the latest result of each of an alloc's service checks");
  auto id = std::make_shared<std::string>();
  cmd->add_option("alloc", *id, "Allocation ID or unique prefix")->required();
  cmd->callback([&selected, id] {
    selected = [id](Context& ctx) { return alloc_checks(ctx, *id); };
  });
}

}  // namespace drover::cli
