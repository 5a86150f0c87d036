// The volumes hook (runner/hooks/hooks.hpp): each `volume_mount` of the task becomes a bind
// mount of the host volume its group volume names (docs/jobspec.md, "volumes").
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

Status VolumesHook::prestart(TaskHookContext& c) {
  const auto* group = c.alloc.group_or_null();
  if (!group) return {};
  for (const auto& m : c.task.volume_mounts) {
    const jobspec::VolumeRequest* v = nullptr;
    for (const auto& g : group->volumes)
      if (g.name == m.volume) v = &g;
    if (!v) return make_error("volume_mount: the group has no volume \"" + m.volume + "\"");
    // Admission checked the node; the agent may have restarted since with another config.
    const auto& have = c.alloc.ctx().node.host_volumes;
    auto hv = have.find(v->source);
    if (hv == have.end())
      return make_error("volume \"" + v->name + "\": host volume \"" + v->source +
                        "\" is no longer in this agent's config");
    if (hv->second.read_only && !v->read_only)
      return make_error("volume \"" + v->name + "\": host volume \"" + v->source +
                        "\" is read-only on this node");
    c.spec.mounts.push_back(
        {hv->second.path, m.destination, hv->second.read_only || v->read_only || m.read_only});
  }
  return {};
}

}  // namespace drover::runner
