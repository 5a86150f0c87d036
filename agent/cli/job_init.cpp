// `drover job init [FILE]`, Nomad's: writes an example job file to start from (default
// example.nomad.hcl), never over an existing file. The example is
// examples/counter-service.nomad.hcl: a raw_exec service (a dev agent enables raw_exec), with
// a ui block and an action.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "cli/command_context.hpp"
#include "cli/example_job.hpp"

namespace drover::cli {
namespace {

int job_init(Context& ctx, const std::string& file) {
  // O_EXCL: an existing file (or a link planted in its place) is never written through.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return print_error(ctx, "job file \"" + file + "\" already exists");
    return print_error(ctx, "cannot write " + file + ": " + std::strerror(errno));
  }
  const std::string text = kExampleJobHcl;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(file.c_str());
      return print_error(ctx, "cannot write " + file + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
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
