// git sources through the `git` command (getters.hpp): clone at a ref and depth, within
// artifact.git_timeout, with git's command-running transports (ext::, fd::) off and no
// prompt for credentials.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/process/search_path.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "artifact/getters.hpp"
#include "drover/common/encoding.hpp"
#include "proc/bounded_command.hpp"

namespace drover::artifact {

namespace {

// Runs git with `args` until it ends or `deadline`; its stderr on failure.
Status run_git(const std::string& step, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env,
               std::chrono::steady_clock::time_point deadline) {
  auto exe = boost::process::search_path("git");
  if (exe.empty()) return make_error("git sources need the git command, which is not in PATH");
  proc::BoundedCommand cmd;
  cmd.exe = exe.string();
  cmd.args = args;
  cmd.env = env;
  cmd.keep_stdout = false;
  cmd.deadline = deadline;
  auto run = proc::run_bounded(cmd);
  if (!run) return make_error("cannot run git: " + run.error().message);
  if (run->timed_out)
    return make_error("git " + step + ": timed out (artifact.git_timeout)", Errc::Invalid);
  if (run->exit_code != 0) {
    auto& output = run->output;
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    return make_error("git " + step + " failed: " + output, Errc::Invalid);
  }
  return {};
}

}  // namespace

Status git_clone(const Source& s, const std::filesystem::path& dir,
                 const std::filesystem::path& scratch, const Limits& limits) {
  const auto deadline = std::chrono::steady_clock::now() + limits.git_timeout;
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      // No user's config, no prompt for a password: a job's clone either works or fails.
      {"HOME", scratch.string()},
      {"GIT_TERMINAL_PROMPT", "0"},
      {"GIT_CONFIG_NOSYSTEM", "1"},
      {"GIT_SSH_COMMAND", "ssh -o BatchMode=yes"},
  };
  if (!s.sshkey.empty()) {
    if (!limits.git_allow_sshkey)
      return make_error(
          "options.sshkey: refused: the agent config's artifact.git_allow_sshkey "
          "is not true",
          Errc::Invalid);
    auto key = base64_decode(s.sshkey);
    if (!key) return make_error("options.sshkey: not base64", Errc::Invalid);
    const auto key_file = scratch / "sshkey";
    int fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return make_error("writing the ssh key: " + std::string(std::strerror(errno)));
    bool ok = ::write(fd, key->data(), key->size()) == static_cast<ssize_t>(key->size());
    ::close(fd);
    if (!ok) return make_error("writing the ssh key failed");
    env["GIT_SSH_COMMAND"] =
        "ssh -o BatchMode=yes -o IdentitiesOnly=yes -i '" + key_file.string() + "'";
  }
  std::vector<std::string> clone = {
      "-c", "protocol.ext.allow=never", "-c", "protocol.fd.allow=never", "clone", "--quiet"};
  if (s.depth > 0) {
    clone.push_back("--depth");
    clone.push_back(std::to_string(s.depth));
    // A shallow clone can only take a branch or tag by name (as go-getter does).
    if (!s.ref.empty()) {
      clone.push_back("--branch");
      clone.push_back(s.ref);
    }
  }
  clone.push_back("--");
  clone.push_back(s.url);
  clone.push_back(dir.string());
  if (auto st = run_git("clone", clone, env, deadline); !st) return st;
  if (!s.ref.empty() && s.depth == 0) {
    std::vector<std::string> checkout = {"-C",       dir.string(), "checkout", "--quiet",
                                         "--detach", s.ref,        "--"};
    if (auto st = run_git("checkout " + s.ref, checkout, env, deadline); !st) return st;
  }
  return {};
}

}  // namespace drover::artifact
