// `drover operator snapshot save|inspect|restore`, Nomad's (docs/cluster.md, "Snapshots"):
// save asks a server for the cluster's durable state (GET /v1/operator/snapshot) and writes it
// to a file; inspect reads a file here and says what is in it; restore puts a file back into
// the etcd of a server config (it writes etcd itself, through the server's code: a snapshot
// is larger than any API request a server takes).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "server/server_flags.hpp"
#include "server/snapshot_file.hpp"

namespace drover::cli {
namespace {

int save(Context& ctx, const std::string& file) {
  auto r = ctx.api.get("/v1/operator/snapshot");
  if (!r) return print_error(ctx, r.message());
  if (r->status == 404)
    return print_error(ctx, describe_api_error(r.value()) + " (snapshots are a server's: -address a drover server)");
  if (r->status != 200) return print_error(ctx, describe_api_error(r.value()));
  // Written beside the file and renamed: a failed save never leaves half a snapshot under the
  // name a backup script keeps.
  const std::string tmp = file + ".part";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
    if (!out.flush()) {
      std::remove(tmp.c_str());
      return print_error(ctx, "cannot write " + tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) return print_error(ctx, "cannot rename " + tmp + " to " + file + ": " + ec.message());
  ctx.out << "State file written to " << file << "\n";
  return 0;
}

int inspect(Context& ctx, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return print_error(ctx, "cannot read " + file);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto snap = server::read_snapshot_file(bytes);
  if (!snap) return print_error(ctx, file + ": " + snap.message());
  const auto counts = server::snapshot_counts(snap.value());
  if (ctx.json) {
    print_json(ctx, {{"Revision", snap->revision},
                     {"TakenAt", snap->taken_at_ns},
                     {"Server", snap->server},
                     {"Prefix", snap->prefix},
                     {"Size", bytes.size()},
                     {"Keys", snap->keys.size()},
                     {"Kinds", counts}});
    return 0;
  }
  render_key_values(ctx.out, {{"Created", format_unix_nanos(snap->taken_at_ns)},
                              {"Revision", std::to_string(snap->revision)},
                              {"Server", snap->server},
                              {"Prefix", snap->prefix},
                              {"Size", std::to_string(bytes.size()) + " bytes"},
                              {"Keys", std::to_string(snap->keys.size())}});
  ctx.out << "\n";
  Table table({"Kind", "Keys"});
  for (const auto& [kind, n] : counts) table.add_row({kind, std::to_string(n)});
  table.render(ctx.out);
  return 0;
}

}  // namespace

void add_operator_snapshot_commands(CLI::App& op, Handler& selected, ServerRunner run_server) {
  auto* snap = op.add_subcommand("snapshot", "Save, inspect and restore the cluster's state (a server's)");
  snap->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* s = snap->add_subcommand("save", "Write the cluster's state, as a server reads it from etcd, to FILE");
  s->add_option("file", *file, "Where the snapshot goes")->required();
  s->callback([&selected, file] { selected = [file](Context& ctx) { return save(ctx, *file); }; });
  auto* i = snap->add_subcommand("inspect", "Say what a snapshot file holds");
  i->add_option("file", *file, "The snapshot file")->required();
  i->callback([&selected, file] { selected = [file](Context& ctx) { return inspect(ctx, *file); }; });
  auto flags = std::make_shared<server::ServerFlags>();
  auto* r = snap->add_subcommand(
      "restore", "Put a snapshot back into the etcd of a server config (the leader plans nothing meanwhile)");
  r->add_option("--config", flags->config_path, "A server's config file (its etcd block)")->required();
  r->add_option("file", flags->restore_snapshot, "The snapshot file")->required();
  r->callback([&selected, flags, run_server] {
    selected = [flags, run_server](Context& ctx) {
      if (run_server == nullptr) return print_error(ctx, "this build of drover has no server");
      return run_server(*flags);
    };
  });
}

}  // namespace drover::cli
