// The volumes hook (runner/hooks/hooks.hpp): each `volume_mount` of the task becomes a bind
// mount of the host volume its group volume names (docs/jobspec.md, "volumes").
#include "jobspec/parse.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

Status VolumesHook::prestart(TaskHookContext& c) {
  const auto* group = c.alloc.group_or_null();
  if (!group) return {};
  const TaskEnv env = c.alloc.task_env(c.task);
  for (const auto& m : c.task.volume_mounts) {
    const jobspec::VolumeRequest* v = nullptr;
    for (const auto& g : group->volumes)
      if (g.name == m.volume) v = &g;
    if (!v) return make_error("volume_mount: the group has no volume \"" + m.volume + "\"");
    // Admission checked the node; the agent may have restarted since with another config.
    const auto have = c.alloc.ctx().node.host_volumes_now();
    auto hv = have.find(v->source);
    if (hv == have.end())
      return make_error("volume \"" + v->name + "\": host volume \"" + v->source +
                        "\" is no longer on this node");
    if (hv->second.read_only && !v->read_only)
      return make_error("volume \"" + v->name + "\": host volume \"" + v->source +
                        "\" is read-only on this node");
    // Nomad interpolates the destination with the task's env (`${NOMAD_TASK_DIR}/data` is
    // /local/data in a container); what results is checked as the validator checks text.
    const std::string dest = env.interpolate(m.destination, c.spec.env);
    if (auto why = jobspec::mount_destination_problem(dest))
      return make_error("volume_mount \"" + m.volume + "\": destination \"" + dest + "\" " + *why,
                        Errc::Invalid);
    c.spec.mounts.push_back(
        {hv->second.path, dest, hv->second.read_only || v->read_only || m.read_only});
  }
  return {};
}

}  // namespace drover::runner
