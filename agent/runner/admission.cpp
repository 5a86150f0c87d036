// Admission (admission.hpp): parse, validate, drivers, then where the job may run on this node
// and what it asks for that one node does not do.
#include "runner/admission.hpp"

#include <set>

#include "drover/loader/registry.hpp"
#include "runner/alloc_network.hpp"
#include "jobspec/identity.hpp"
#include "jobspec/parse.hpp"
#include "runner/constraints.hpp"

namespace drover::runner {

namespace {

// The update fields that pace deployments across many nodes (issue 17): kept, shown, and
// answered with a warning, because one node replaces its allocs without a deployment.
void update_warnings(const std::string& path, const jobspec::UpdateStrategy& u,
                     const jobspec::UpdateStrategy& base, std::vector<jobspec::Problem>& out) {
  auto warn = [&](const char* field, bool differs, const std::string& what) {
    if (differs) out.push_back({path + "." + field, what});
  };
  warn("max_parallel", u.max_parallel != base.max_parallel,
       "kept, but not acted on: one node replaces a group's allocs together, with no deployment "
       "to pace");
  warn("stagger", u.stagger != base.stagger,
       "kept, but not acted on: one node has no rolling update to stagger");
  warn("canary", u.canary != base.canary,
       "kept, but not acted on: one node runs no canaries; the new version replaces the old");
  warn("auto_revert", u.auto_revert != base.auto_revert,
       "kept, but not acted on: a failed new version is not reverted to the last stable one");
  warn("auto_promote", u.auto_promote != base.auto_promote,
       "kept, but not acted on: with no canaries there is nothing to promote");
  warn("progress_deadline", u.progress_deadline != base.progress_deadline,
       "kept, but not acted on: one node tracks no deployment progress");
}

void placement_warnings(const std::string& prefix, const jobspec::Placement& p,
                        std::vector<jobspec::Problem>& out) {
  if (!p.affinities.empty())
    out.push_back({prefix + "affinities",
                   "kept, but they change nothing on one node (a cluster placer uses them)"});
  if (!p.spreads.empty())
    out.push_back({prefix + "spreads",
                   "kept, but they change nothing on one node (a cluster placer uses them)"});
}

std::vector<jobspec::Problem> job_warnings(const jobspec::Job& job) {
  std::vector<jobspec::Problem> out;
  const jobspec::UpdateStrategy defaults;
  if (job.update) update_warnings("update", *job.update, defaults, out);
  placement_warnings("", job.placement, out);
  for (std::size_t g = 0; g < job.groups.size(); ++g) {
    const auto& group = job.groups[g];
    const std::string gp = "groups[" + std::to_string(g) + "].";
    // A group's update starts from the job's: only what it changes is its own to warn about.
    if (group.update)
      update_warnings(gp + "update", *group.update, job.update.value_or(defaults), out);
    placement_warnings(gp, group.placement, out);
    for (std::size_t t = 0; t < group.tasks.size(); ++t) {
      const std::string tp = gp + "tasks[" + std::to_string(t) + "].";
      placement_warnings(tp, group.tasks[t].placement, out);
      // An env var reaches the task only at its start: renewed tokens go to the file alone.
      const auto& task = group.tasks[t];
      std::vector<std::pair<std::string, const jobspec::Identity*>> ids;
      if (task.identity) ids.emplace_back(tp + "identity", &*task.identity);
      for (std::size_t i = 0; i < task.identities.size(); ++i)
        ids.emplace_back(tp + "identities[" + std::to_string(i) + "]", &task.identities[i]);
      for (const auto& [ip, id] : ids)
        if (id->env && id->ttl.count() > 0 && id->change_mode != "restart")
          out.push_back({ip + ".env",
                         jobspec::identity_env_var(*id) + " is set at the task's start only: once "
                         "its ttl has run out it holds an expired token (read the renewed one "
                         "from file = true, or set change_mode = \"restart\")"});
      if (group.tasks[t].resources.disk_mb > 0)
        out.push_back({tp + "resources.disk",
                       "ignored, as Nomad ignores it: a group's tasks share its ephemeral_disk "
                       "(size " + std::to_string(group.ephemeral_disk.size_mb) + " MB)"});
    }
  }
  return out;
}

}  // namespace

Admission JobAdmission::admit(const std::string& text, bool whole_job_here) const {
  auto parsed = jobspec::parse_job(text);
  Admission out{std::move(parsed.job), std::move(parsed.problems), {}, {}};
  if (!out.job) return out;
  const auto& job = *out.job;
  // Problems found from here on speak YAML paths; a Nomad JSON job hears its own names.
  auto path = [&](std::string p) {
    return parsed.format == jobspec::JobFormat::NomadJson ? jobspec::nomad_json_path(p) : p;
  };
  for (auto& p : jobspec::validate(job, plugins_.driver_names()))
    out.problems.push_back({path(p.path), std::move(p.message)});
  // Health comes from the node watcher's last fingerprint (as a Nomad server judges a node by
  // its last one): fingerprinting on each admission ran `runc --version` on the submit path.
  const nlohmann::json cached = driver_health_ ? driver_health_() : nlohmann::json::object();
  for (std::size_t g = 0; g < job.groups.size(); ++g)
    for (std::size_t t = 0; t < job.groups[g].tasks.size(); ++t) {
      const auto& task = job.groups[g].tasks[t];
      auto* d = plugins_.driver(task.driver);
      if (!d) continue;  // validate() named it
      auto prefix = "groups[" + std::to_string(g) + "].tasks[" + std::to_string(t) + "].";
      const nlohmann::json fp = cached.is_object() && cached.contains(task.driver) ? cached[task.driver]
                                                                                   : d->fingerprint();
      if (!fp.value("Healthy", false)) {
        out.problems.push_back({path(prefix + "driver"),
                                "driver \"" + task.driver + "\" is not usable on this node: " +
                                    fp.value("HealthDescription", "unhealthy")});
        continue;
      }
      // Volumes are bind mounts: a driver without its own mount namespace cannot make them
      // (plugin.h, Capabilities.MountConfigs; absent, it follows FSIsolation).
      if (!task.volume_mounts.empty()) {
        const nlohmann::json caps = fp.value("Capabilities", nlohmann::json::object());
        const std::string mounts = caps.is_object() && caps.contains("MountConfigs")
                                       ? caps.value("MountConfigs", "none")
                                       : (caps.is_object() && caps.value("FSIsolation", "none") != "none"
                                              ? "all"
                                              : "none");
        if (mounts == "none")
          out.problems.push_back(
              {path(prefix + "volume_mounts"),
               "driver \"" + task.driver +
                   "\" runs tasks in the host's filesystem and cannot mount volumes (its "
                   "MountConfigs capability is none): use exec or docker"});
      }
      // A task in the alloc's network namespace needs a driver that can put it there
      // (plugin.h, Capabilities.NetIsolation).
      const auto& g_nets = job.groups[g].networks;
      if (!g_nets.empty() && isolated_network_mode(g_nets.front().mode)) {
        const nlohmann::json caps = fp.value("Capabilities", nlohmann::json::object());
        const std::string net = caps.is_object() ? caps.value("NetIsolation", "none") : "none";
        if (net != "group")
          out.problems.push_back(
              {path(prefix + "driver"),
               "driver \"" + task.driver + "\" cannot run a task in the alloc's network namespace " +
                   "(network mode \"" + g_nets.front().mode +
                   "\"; its NetIsolation capability is none): use exec, or network mode \"host\""});
      }
      // A dns block reaches tasks with a filesystem of their own; a raw_exec task reads the
      // host's /etc/resolv.conf, which the agent does not change for it.
      if (!g_nets.empty() && g_nets.front().dns) {
        const nlohmann::json caps = fp.value("Capabilities", nlohmann::json::object());
        if (!caps.is_object() || caps.value("FSIsolation", "none") == "none")
          out.warnings.push_back(path("groups[" + std::to_string(g) + "].network.dns") +
                                 ": task \"" + task.name + "\" (driver \"" + task.driver +
                                 "\") shares the host's filesystem and reads the host's "
                                 "/etc/resolv.conf; the dns block reaches exec and docker tasks");
      }
      // Each driver checks its own config, so a bad job is refused before anything runs.
      for (const auto& p : d->validate(task.config)) out.problems.push_back({prefix + p, ""});
    }
  // The host must be able to make the namespaces: the CNI network config and plugins, root.
  for (std::size_t g = 0; g < job.groups.size(); ++g) {
    const auto& nets = job.groups[g].networks;
    // Nomad gives the hostname in bridge mode alone; in host mode the tasks have the node's.
    if (!nets.empty() && !nets.front().hostname.empty() && !isolated_network_mode(nets.front().mode))
      out.warnings.push_back(path("groups[" + std::to_string(g) + "].network.hostname") +
                             ": ignored in network mode \"" + nets.front().mode +
                             "\" (the tasks have the node's hostname); it names the alloc in "
                             "mode bridge or none");
    if (nets.empty() || !isolated_network_mode(nets.front().mode)) continue;
    if (auto p = network_host_problem(nets.front().mode, cni_); !p.empty())
      out.problems.push_back({path("groups[" + std::to_string(g) + "].network.mode"), p});
    // One alloc has one namespace: at most one driver may insist on making it (plugin.h,
    // MustInitiateNetwork); the tasks of every other driver join it.
    std::set<std::string> makers;
    for (const auto& task : job.groups[g].tasks)
      if (auto* d = plugins_.driver(task.driver); d && d->initiates_network())
        makers.insert(task.driver);
    if (makers.size() > 1)
      out.problems.push_back(
          {path("groups[" + std::to_string(g) + "].network.mode"),
           "drivers \"" + *makers.begin() + "\" and \"" + *std::next(makers.begin()) +
               "\" each make the network namespace their tasks join, and an alloc has one: "
               "put their tasks in separate groups"});
  }
  if (!out.problems.empty()) return out;
  if (node_) {
    for (auto& p : placement_problems(job, node_(), whole_job_here))
      out.conflicts.push_back({path(p.path), std::move(p.message)});
  }
  for (auto& w : job_warnings(job)) out.warnings.push_back(path(w.path) + ": " + w.message);
  return out;
}

}  // namespace drover::runner
