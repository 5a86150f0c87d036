// `drover operator debug [-duration 30s] [-interval 10s] [-log-level trace] [-output DIR]`,
// Nomad's support bundle, smaller: what an operator attaches to a bug report, captured from the
// CLI's -address (an agent or a server) into one drover-debug-<time>.tar.gz (libarchive, through
// the artifact I/O module so that the drover binary maps it only here): the agent's self, its
// node (or a server's nodes, members and scheduler), plugins, jobs, allocs, evaluations and
// deployments once; its Prometheus metrics every -interval; its own log at -log-level for
// -duration. What the API refuses (a server's paths on an agent) is listed in index.json, not
// fatal. Never written over an existing file.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "artifact/io_module.hpp"
#include "cli/command_context.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"
#include "jobspec/parse.hpp"

namespace drover::cli {
namespace {

struct DebugOptions {
  std::string duration = "30s", interval = "10s", log_level = "trace", output = ".";
};

struct Bundle {
  std::vector<std::pair<std::string, std::string>> files;  // name in the bundle, content
  nlohmann::json errors = nlohmann::json::object();        // API path -> why it is missing
};

// GETs `path` into `name` (a JSON answer pretty-printed); a refusal goes into the errors.
void capture(Context& ctx, Bundle& b, const std::string& name, const std::string& path) {
  auto r = ctx.api.get(path);
  if (!r) {
    b.errors[path] = r.message();
    return;
  }
  if (r->status < 200 || r->status >= 300) {
    b.errors[path] = describe_api_error(*r);
    return;
  }
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  b.files.emplace_back(name, j.is_discarded() ? r->body : j.dump(2) + "\n");
}

// The tar.gz, written to a new file (O_EXCL) and removed if anything fails, through the
// artifact I/O module, which holds libarchive (artifact/pack.hpp).
Status write_archive(const std::string& path, const std::string& dir, const Bundle& b) {
  auto io = artifact::io_functions();
  if (!io) return io.error();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot write " + path + ": " + std::strerror(errno));
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [name, content] : b.files) files.emplace_back(dir + "/" + name, content);
  auto st = io.value()->pack_tar_gz(fd, files);
  if (st && ::fsync(fd) != 0) st = make_error(std::strerror(errno));
  ::close(fd);
  if (!st) {
    ::unlink(path.c_str());
    return make_error("cannot write " + path + ": " + st.message());
  }
  return {};
}

int operator_debug(Context& ctx, const DebugOptions& o) {
  auto duration = jobspec::parse_duration(o.duration);
  if (!duration || duration->count() <= 0) return print_error(ctx, "duration: \"" + o.duration + "\" is not a duration above 0");
  auto interval = jobspec::parse_duration(o.interval);
  if (!interval || interval->count() <= 0) return print_error(ctx, "interval: \"" + o.interval + "\" is not a duration above 0");
  if (*interval > *duration) return print_error(ctx, "interval: must not be longer than -duration (" + o.duration + ")");
  Bundle b;
  // The agent must answer at all: without its self there is nothing to report.
  capture(ctx, b, "agent-self.json", "/v1/agent/self");
  if (b.files.empty()) return print_error(ctx, b.errors.begin().value().get<std::string>());
  const std::string stamp = [] {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    return std::string(buf);
  }();
  const std::string dir = "drover-debug-" + stamp;
  const std::string path = o.output + "/" + dir + ".tar.gz";
  ctx.out << "Starting debugger...\n"
          << "          Agent: " << ctx.api.address() << "\n"
          << "       Interval: " << o.interval << "\n"
          << "       Duration: " << o.duration << "\n"
          << "      Log level: " << o.log_level << "\n"
          << "Capturing...\n" << std::flush;
  // The log, on a thread of its own for the whole duration.
  std::string log;
  std::string log_error;
  const auto deadline = std::chrono::steady_clock::now() + *duration;
  std::thread follower([&] {
    // A quiet agent sends nothing, and a read waits at most a second: the stream is opened
    // again until the deadline (a line logged in between may be missed), so the capture ends
    // on time whatever the agent logs.
    while (std::chrono::steady_clock::now() < deadline) {
      const auto began = std::chrono::steady_clock::now();
      auto r = ctx.api.stream(
          "/v1/agent/monitor?plain=true&log_level=" + url_escape(o.log_level),
          [&](const char* data, std::size_t size) {
            log.append(data, size);
            return std::chrono::steady_clock::now() < deadline;
          },
          std::chrono::seconds(1));
      if (r && (r->status < 200 || r->status >= 300)) {
        log_error = describe_api_error(*r);
        return;
      }
      // A read that timed out took its second; one that failed sooner (refused, reset) is
      // kept as the reason, unless a later try gets through.
      if (!r && std::chrono::steady_clock::now() - began < std::chrono::milliseconds(900)) {
        log_error = r.message();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      } else {
        log_error.clear();
      }
    }
  });
  // Once: what the agent (or server) holds.
  capture(ctx, b, "node.json", "/v1/node");
  capture(ctx, b, "nodes.json", "/v1/nodes");
  capture(ctx, b, "members.json", "/v1/agent/members");
  capture(ctx, b, "plugins.json", "/v1/plugins");
  capture(ctx, b, "jobs.json", with_namespace(ctx, "/v1/jobs"));
  capture(ctx, b, "allocations.json", with_namespace(ctx, "/v1/allocations"));
  capture(ctx, b, "evaluations.json", with_namespace(ctx, "/v1/evaluations"));
  capture(ctx, b, "deployments.json", with_namespace(ctx, "/v1/deployments"));
  capture(ctx, b, "scheduler.json", "/v1/operator/scheduler/configuration");
  // Every interval: the metrics.
  for (int i = 0;; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "metrics/%04d.prom", i);
    capture(ctx, b, name, "/v1/metrics");
    const auto next = std::chrono::steady_clock::now() + *interval;
    if (next >= deadline) break;
    std::this_thread::sleep_until(next);
  }
  follower.join();
  b.files.emplace_back("monitor.log", log);
  if (!log_error.empty()) b.errors["/v1/agent/monitor"] = log_error;
  nlohmann::json index = {{"Address", ctx.api.address()},
                          {"CapturedAt", format_unix_nanos(now_unix_nanos())},
                          {"Duration", o.duration},
                          {"Interval", o.interval},
                          {"LogLevel", o.log_level},
                          {"Files", nlohmann::json::array()},
                          {"Missing", b.errors}};
  for (const auto& [name, content] : b.files) index["Files"].push_back(name);
  b.files.emplace_back("index.json", index.dump(2) + "\n");
  if (auto st = write_archive(path, dir, b); !st) return print_error(ctx, st.message());
  ctx.out << "Created debug archive: " << path << "\n";
  return 0;
}

}  // namespace

void add_operator_debug_command(CLI::App& op, Handler& selected) {
  auto* cmd = op.add_subcommand("debug", "Capture a support bundle: state, metrics and log, into a .tar.gz");
  auto o = std::make_shared<DebugOptions>();
  cmd->add_option("--duration", o->duration, "How long to capture the log and metrics (default 30s)");
  cmd->add_option("--interval", o->interval, "How often to capture the metrics (default 10s)");
  cmd->add_option("--output", o->output, "Where to write drover-debug-<time>.tar.gz (default .)");
  add_log_level_option(cmd, o->log_level);
  cmd->callback([&selected, o] { selected = [o](Context& ctx) { return operator_debug(ctx, *o); }; });
}

}  // namespace drover::cli
