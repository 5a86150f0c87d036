// The artifact hook (runner/hooks/hooks.hpp): each of the task's artifacts fetched into its
// task dir (agent/artifact/), once per alloc. Completion is remembered in the task's private
// state dir, which outlives task restarts and agent restarts but not the alloc.
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "artifact/fetch.hpp"
#include "drover/common/relative_path.hpp"
#include "drover/loader/registry.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

namespace {

// Nomad's task event types (docs/nomad-compat.md, "Task events").
constexpr const char* kDownloadingArtifacts = "Downloading Artifacts";
constexpr const char* kArtifactDownloadFailed = "Failed Artifact Download";

// The source as events show it: without its query, which may hold a token.
std::string shown(const std::string& source) { return source.substr(0, source.find('?')); }

Status chown_tree(const std::filesystem::path& root, const std::string& user) {
  struct passwd pw {
  }, *found = nullptr;
  char buf[4096];
  if (getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &found) != 0 || !found)
    return make_error("chown: user \"" + user + "\" does not exist on this node");
  std::error_code ec;
  if (::lchown(root.c_str(), pw.pw_uid, pw.pw_gid) != 0)
    return make_error("chown " + root.string() + ": " + std::strerror(errno));
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(root, ec))) return {};
  // Not following symlinks: lchown changes a link itself, never what it points to.
  for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec))
    if (::lchown(it->path().c_str(), pw.pw_uid, pw.pw_gid) != 0)
      return make_error("chown " + it->path().string() + ": " + std::strerror(errno));
  if (ec) return make_error("chown " + root.string() + ": " + ec.message());
  return {};
}

}  // namespace

Status ArtifactHook::prestart(TaskHookContext& c) {
  const auto& artifacts = c.task.artifacts;
  if (artifacts.empty()) return {};
  const std::filesystem::path state_dir = c.spec.state_dir;
  const auto done = state_dir / "artifacts.done";
  std::error_code ec;
  // Downloaded once per alloc: a restarted task finds its artifacts in place.
  if (std::filesystem::exists(done, ec)) return {};
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return make_error("artifact: making " + state_dir.string() + ": " + ec.message());
  std::filesystem::permissions(state_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  c.record({kDownloadingArtifacts, 0, "Client is downloading artifacts"});

  auto* driver = c.alloc.ctx().plugins ? c.alloc.ctx().plugins->driver(c.task.driver) : nullptr;
  const std::string user = !c.task.user.empty() ? c.task.user
                           : driver             ? driver->default_user()
                                                : std::string();
  // ${NOMAD_META_x}, ${attr.cpu.arch}, ... as Nomad interpolates artifacts.
  const TaskEnv env = c.alloc.task_env(c.task);
  for (std::size_t i = 0; i < artifacts.size(); ++i) {
    const auto& a = artifacts[i];
    artifact::Request r;
    r.source = env.interpolate(a.source, c.spec.env);
    for (const auto& [k, v] : a.options) r.options[k] = env.interpolate(v, c.spec.env);
    for (const auto& [k, v] : a.headers) r.headers[k] = env.interpolate(v, c.spec.env);
    r.mode = a.mode.empty() ? "any" : a.mode;
    r.scratch = state_dir / "artifact-scratch";
    // From the task dir, into it or the alloc's shared dir (Nomad's rule,
    // common/relative_path.hpp); the fetch writes beneath whichever of the two it is.
    Status st;
    const std::string written = a.destination.empty() ? "local" : a.destination;
    auto dest = beneath_task_or_shared(
        c.task.name, env.interpolate(task_dir_variables_as_relative(written), c.spec.env));
    if (!dest) {
      st = make_error("destination " + dest.message(), Errc::Invalid);
    } else {
      auto [top, rest] = top_dir_and_rest(*dest);
      r.root = c.alloc.dir().root / top;
      r.destination = std::move(rest);
      st = artifact::fetch(r, c.alloc.ctx().artifact_limits);
    }
    if (st && a.chown && !user.empty() && user != "root") {
      // mode file: the one file; otherwise the destination dir and all in it.
      st = chown_tree(r.root / r.destination, user);
    }
    if (!st) {
      const std::string reason =
          "artifact " + std::to_string(i) + " (" + shown(r.source) + "): " + st.message();
      state::TaskEvent e{kArtifactDownloadFailed, 0, reason};
      e.details["download_error"] = reason;
      c.record(std::move(e));
      return make_error(reason, st.code());
    }
  }
  std::ofstream(done) << artifacts.size() << "\n";
  return {};
}

}  // namespace drover::runner
