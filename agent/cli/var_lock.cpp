// `drover var lock [flags] <path> [@spec.json] -- <command...>`: Nomad's `var lock`. Takes a
// lock over a variable (waiting for it, or giving up at once with -early-return), runs the
// command while the lock is held, renews the lease every 0.7 of its TTL, and releases it when
// the command ends. A lease that cannot be renewed (lost) stops the command: SIGTERM, then
// SIGKILL after 5 s. docs/variables.md, "Locks".
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/command_context.hpp"
#include "jobspec/parse.hpp"
#include "proc/spawn.hpp"

extern char** environ;

namespace drover::cli {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

struct LockFlags {
  std::string path;
  std::vector<std::string> command;  // [@spec.json] command args...
  std::string ns;
  std::string ttl = "15s", delay = "15s";
  std::string backoff;  // between tries to take a lock another holds; default 1.1 x TTL
  int max_retry = 5;    // tries of a request that got no answer (or a 5xx) before giving up
  bool early_return = false;
  bool shell = true;
  bool verbose = false;
};

// The child the lock guards, which SIGINT and SIGTERM to this command are passed on to.
std::atomic<pid_t> g_child{0};

void forward_signal(int sig) {
  if (pid_t pid = g_child.load(); pid > 0) ::kill(pid, sig);
}

// One lock request (?lock-acquire, ?lock-renew, ?lock-release), tried again while it gets no
// answer or a 5xx; the last answer, or why none came.
Result<ApiResponse> lock_request(Context& ctx, const LockFlags& f, const std::string& op,
                                 const json& body) {
  const auto url = var_url(f.path, f.ns.empty() ? (ctx.ns.empty() ? "default" : ctx.ns) : f.ns) +
                   "&" + op;
  Result<ApiResponse> r = make_error("no request made");
  for (int attempt = 0; attempt <= f.max_retry; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(milliseconds(200 * attempt));
    r = ctx.api.put(url, body.dump(), "application/json");
    if (r && r->status < 500) return r;
  }
  return r;
}

std::string refusal_text(const ApiResponse& r) {
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_string())
    return body["error"].get<std::string>();
  return r.body;
}

// Keeps the lease: renews every `period` until stop(); on a refusal (the lock was lost) or no
// answer, stops the child, SIGTERM and then SIGKILL after 5 s.
class LeaseKeeper {
 public:
  LeaseKeeper(Context& ctx, const LockFlags& f, json renew_body, nanoseconds period, pid_t child)
      : thread_([this, &ctx, &f, body = std::move(renew_body), period, child] {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, period, [this] { return stopping_; })) {
            lock.unlock();
            auto r = lock_request(ctx, f, "lock-renew", body);
            lock.lock();
            if (r && r->status == 200) continue;
            lost_ = r ? refusal_text(*r) : r.message();
            ::kill(child, SIGTERM);
            if (!cv_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; }))
              ::kill(child, SIGKILL);
            return;
          }
        }) {}
  ~LeaseKeeper() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // Why the lease was lost; empty while it was kept.
  std::string lost() {
    std::lock_guard lock(mu_);
    return lost_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string lost_;
  std::thread thread_;  // last: started once the members above exist
};

Result<pid_t> start_child(const LockFlags& f, const std::vector<std::string>& command) {
  proc::SpawnRequest req;
  if (f.shell) {
    const char* sh = std::getenv("SHELL");
    req.exe = sh && *sh ? sh : "/bin/sh";
    std::string line;
    for (const auto& a : command) line += (line.empty() ? "" : " ") + a;
    req.argv = {req.exe, "-c", line};
  } else {
    req.exe = command[0];
    req.search_path = true;
    req.argv = command;
  }
  for (char** e = environ; *e; ++e) req.env.emplace_back(*e);
  req.in = 0;
  req.out = 1;
  req.err = 2;
  return proc::spawn(req);
}

int var_lock(Context& ctx, const LockFlags& f) {
  auto say = [&](const std::string& msg) {
    if (f.verbose) ctx.err << msg << "\n";
  };
  auto ttl = jobspec::parse_duration(f.ttl);
  if (!ttl) return print_error(ctx, "-ttl: " + ttl.message());
  auto delay = jobspec::parse_duration(f.delay);
  if (!delay) return print_error(ctx, "-delay: " + delay.message());
  nanoseconds backoff = *ttl * 11 / 10;
  if (!f.backoff.empty()) {
    auto b = jobspec::parse_duration(f.backoff);
    if (!b) return print_error(ctx, "-backoff: " + b.message());
    backoff = *b;
  }
  // The variable: its path, and the items and lock of an @spec file if one comes first.
  json body = {{"Path", f.path}};
  std::vector<std::string> command = f.command;
  if (!command.empty() && command[0].size() > 1 && command[0][0] == '@') {
    std::ifstream in(command[0].substr(1));
    if (!in) return print_error(ctx, "cannot read " + command[0].substr(1));
    std::stringstream ss;
    ss << in.rdbuf();
    auto spec = json::parse(ss.str(), nullptr, false);
    if (!spec.is_object())
      return print_error(ctx, command[0].substr(1) + ": not a JSON variable specification");
    if (spec.contains("Items")) body["Items"] = spec["Items"];
    if (spec.contains("Lock")) body["Lock"] = spec["Lock"];
    command.erase(command.begin());
  }
  if (command.empty()) return print_error(ctx, "var lock: give the command to run after the path");
  if (!body.contains("Lock")) body["Lock"] = {{"TTL", f.ttl}, {"LockDelay", f.delay}};

  std::string lock_id;
  for (;;) {
    say("Attempting to acquire lock on " + f.path);
    auto r = lock_request(ctx, f, "lock-acquire", body);
    if (!r) return print_error(ctx, "Lock error: " + r.message());
    if (r->status == 200) {
      auto v = json::parse(r->body, nullptr, false);
      if (v.is_object() && v.contains("Lock") && v["Lock"].is_object())
        lock_id = str_field(v["Lock"], "ID");
      if (lock_id.empty()) return print_error(ctx, "Lock error: the answer named no lock ID");
      break;
    }
    if (r->status != 409) return print_error(ctx, "Lock error: " + refusal_text(*r));
    if (f.early_return) {
      say("The lock is held by another; returning early");
      return 0;
    }
    say("The lock is held by another; trying again in " + jobspec::format_duration(backoff));
    std::this_thread::sleep_for(backoff);
  }

  say("Variable locked, ready to execute the command");
  auto child = start_child(f, command);
  json held = {{"Path", f.path}, {"Lock", {{"ID", lock_id}}}};
  if (!child) {
    // Best effort: a lock not released ends with its lease anyway.
    (void)lock_request(ctx, f, "lock-release", held);
    return print_error(ctx, "Lock error: " + child.message());
  }
  g_child = *child;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  int code;
  std::string lost;
  {
    LeaseKeeper keeper(ctx, f, held, *ttl * 7 / 10, *child);
    code = proc::wait_exit_code(*child);
    keeper.stop();
    lost = keeper.lost();
  }
  g_child = 0;
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!lost.empty()) return print_error(ctx, "Lock error: the lock was lost (" + lost + "); the command was stopped");
  say("Releasing the lock");
  auto r = lock_request(ctx, f, "lock-release", held);
  if (!r) return print_error(ctx, "lock release: " + r.message());
  if (r->status != 200) return print_error(ctx, "lock release: " + refusal_text(*r));
  return code;
}

}  // namespace

void add_var_lock_command(CLI::App& var, Handler& selected) {
  auto f = std::make_shared<LockFlags>();
  auto* cmd = var.add_subcommand(
      "lock", "Hold a lock over a variable while a command runs: lock <path> [@spec.json] -- <command...>");
  cmd->add_option("path", f->path, "The variable's path")->required();
  cmd->add_option("command", f->command, "The command and its arguments, after --")->required();
  cmd->add_option("--namespace", f->ns, "The variable's namespace (default: the CLI's -namespace, else default)");
  cmd->add_option("--ttl", f->ttl, "How long the lock lives unless renewed (10s to 24h; default 15s)");
  cmd->add_option("--delay", f->delay, "How long a lost lock stays blocked before another may take it (default 15s)");
  cmd->add_option("--backoff", f->backoff, "How long to wait between tries to take the lock (default 1.1 x TTL)");
  cmd->add_option("--max-retry", f->max_retry, "Tries of a request that gets no answer or a 5xx (default 5)");
  cmd->add_flag("--early-return", f->early_return, "Return at once (exit 0) when another holds the lock");
  cmd->add_flag("--shell", f->shell, "Run the command through $SHELL -c; --shell=false runs it directly");
  cmd->add_flag("--verbose", f->verbose, "Say on stderr what the lock is doing");
  cmd->callback([&selected, f] { selected = [f](Context& ctx) { return var_lock(ctx, *f); }; });
}

}  // namespace drover::cli
