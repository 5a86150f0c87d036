// `drover monitor`: follows the agent's (or a server's) own log at a level of the caller's
// choosing, as `nomad monitor` does, through GET /v1/agent/monitor (api/monitor_endpoint.hpp).
// Against a server, -node-id follows that node's agent and -server-id another server.
#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>

#include "cli/api_client.hpp"
#include "cli/command_context.hpp"

namespace drover::cli {

namespace {

struct MonitorOptions {
  std::string log_level = "info";
  std::string node_id, server_id;
};

// A quiet agent may log nothing for hours; the stream goes on until the agent stops or the
// caller interrupts.
constexpr auto kReadTimeout = std::chrono::hours(24);

int monitor(Context& ctx, const MonitorOptions& opts) {
  std::string path = "/v1/agent/monitor?plain=true&log_level=" + url_escape(opts.log_level);
  if (ctx.json) path += "&log_json=true";  // -json: hclog's JSON lines
  if (!opts.node_id.empty()) path += "&node_id=" + url_escape(opts.node_id);
  if (!opts.server_id.empty()) path += "&server_id=" + url_escape(opts.server_id);
  auto response = ctx.api.stream(
      path,
      [&](const char* data, std::size_t size) {
        ctx.out.write(data, static_cast<std::streamsize>(size));
        ctx.out.flush();
        return static_cast<bool>(ctx.out);
      },
      std::chrono::duration_cast<std::chrono::seconds>(kReadTimeout));
  if (!response) return print_error(ctx, response.message());
  if (response->status < 200 || response->status >= 300)
    return print_error(ctx, describe_api_error(*response));
  return 0;
}

}  // namespace

void add_monitor_command(CLI::App& app, Handler& selected) {
  auto* cmd = app.add_subcommand(
      "monitor", "Follow the agent's own log at any level (-log-level debug), as it is written");
  auto opts = std::make_shared<MonitorOptions>();
  add_log_level_option(cmd, opts->log_level);
  cmd->add_option("--node-id", opts->node_id, "Against a server: follow this node's agent");
  cmd->add_option("--server-id", opts->server_id,
                  "Against a server: follow this server (a name, or \"leader\")");
  cmd->callback([&selected, opts] {
    selected = [opts](Context& ctx) { return monitor(ctx, *opts); };
  });
}

}  // namespace drover::cli
