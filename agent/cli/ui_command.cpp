// `drover ui [-show-url] [ID]`, Nomad's: the web UI's address at the CLI's -address, on the
// page of a job, alloc or node when an id (or a unique prefix of one) names it. Where a desktop
// session is (DISPLAY or WAYLAND_DISPLAY) the URL is handed to xdg-open; elsewhere, and with
// -show-url, it is only printed. Nomad's -authenticate (a one-time token for the browser) is not
// kept: the UI asks for a token itself (docs/ui.md).
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <spawn.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "cli/command_context.hpp"
#include "drover/common/encoding.hpp"

extern char** environ;

namespace drover::cli {
namespace {

// The UI's hash route for `id`: a job (exact, then a unique prefix), an alloc, then a node.
Result<std::string> page_of(Context& ctx, const std::string& id) {
  const std::string e = url_escape(id);
  const std::string ns = ctx.ns.empty() || ctx.ns == "*" ? "" : "?namespace=" + url_escape(ctx.ns);
  if (auto r = ctx.api.get(with_namespace(ctx, "/v1/job/" + e)); r && r->status == 200)
    return "#/job/" + e + ns;
  if (auto jobs = ctx.api.get_json(with_namespace(ctx, "/v1/jobs?prefix=" + e));
      jobs && jobs->is_array() && jobs->size() == 1)
    return "#/job/" + url_escape(str_field((*jobs)[0], "ID")) + ns;
  if (auto a = ctx.api.get_json("/v1/allocation/" + e); a && a->is_object() && a->contains("ID"))
    return "#/alloc/" + str_field(*a, "ID");
  if (auto n = ctx.api.get_json("/v1/node/" + e); n && n->is_object() && n->contains("ID"))
    return "#/node/" + str_field(*n, "ID");
  // An agent is one node: its own, by a prefix of its id.
  if (auto self = ctx.api.get_json("/v1/node");
      self && self->is_object() && str_field(*self, "ID").rfind(id, 0) == 0)
    return "#/node/" + str_field(*self, "ID");
  return make_error("no job, alloc or node matches \"" + id + "\"");
}

// Hands `url` to xdg-open in a session of its own (a browser it starts outlives the CLI).
bool open_in_browser(const std::string& url) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  for (int fd : {0, 1, 2}) posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  std::string exe = "xdg-open";
  char* argv[] = {exe.data(), const_cast<char*>(url.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "xdg-open", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0;
}

int ui(Context& ctx, const std::string& id, bool show_url) {
  std::string url = ctx.api.address() + "/ui/";
  if (!id.empty()) {
    auto page = page_of(ctx, id);
    if (!page) return print_error(ctx, page.message());
    url += page.value();
  }
  if (show_url) {
    ctx.out << "URL for web UI: " << url << "\n";
    return 0;
  }
  ctx.out << "Opening URL \"" << url << "\"\n";
  const bool desktop = std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY");
  if (!desktop) {
    ctx.out << "No desktop session here (DISPLAY is not set): open it in a browser\n";
    return 0;
  }
  if (!open_in_browser(url)) return print_error(ctx, "cannot run xdg-open: open the URL in a browser");
  return 0;
}

}  // namespace

void add_ui_command(CLI::App& app, Handler& selected) {
  auto* cmd = app.add_subcommand("ui", "Open the web UI, at a job's, alloc's or node's page when an id is given");
  auto id = std::make_shared<std::string>();
  auto show_url = std::make_shared<bool>(false);
  cmd->add_option("id", *id, "A job, alloc or node id, or a prefix of one");
  cmd->add_flag("--show-url", *show_url, "Print the URL only");
  cmd->callback([&selected, id, show_url] {
    selected = [id, show_url](Context& ctx) { return ui(ctx, *id, *show_url); };
  });
}

}  // namespace drover::cli
