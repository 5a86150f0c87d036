// `drover job init [FILE]`, Nomad's: writes an example job file to start from (default
// example.nomad.hcl), never over an existing file. The example is
// examples/counter-service.nomad.hcl: a raw_exec service (a dev agent enables raw_exec), with
// a ui block and an action.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "cli/command_context.hpp"
#include "cli/example_job.hpp"

namespace drover::cli {
namespace {

int job_init(Context& ctx, const std::string& file) {
  if (auto st = write_new_file(file, kExampleJobHcl, 0644); !st)
    return print_error(ctx, st.code() == Errc::Conflict ? "job file " + st.message() : st.message());
  ctx.out << "Example job file written to " << file << "\n"
          << "Run it on a dev agent (raw_exec is enabled there): drover job run " << file << "\n";
  return 0;
}

}  // namespace

void add_job_init_command(CLI::App& job, Handler& selected) {
  auto* cmd = job.add_subcommand("init", "Write an example job file to start from (example.nomad.hcl)");
  auto file = std::make_shared<std::string>("example.nomad.hcl");
  cmd->add_option("file", *file, "Where to write it (default example.nomad.hcl; never over a file)");
  cmd->callback([&selected, file] {
    selected = [file](Context& ctx) { return job_init(ctx, *file); };
  });
}

}  // namespace drover::cli
