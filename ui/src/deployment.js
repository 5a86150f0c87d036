// A job's deployment as a server keeps it (docs/cluster.md, "Operating a deployment"): what
// the page shows of each group, and which of Nomad's controls apply to it now.

// Running or paused: the only deployments pause, resume and fail act on.
export function isActive(d) {
  return !!d && (d.Status === 'running' || d.Status === 'paused');
}

// The controls the deployment takes now, each with the request it sends:
// [{action, label, method, path, body}]. Promote needs a running deployment with canaries not
// yet promoted; pause a running one; resume a paused one; fail either.
export function deploymentControls(d) {
  if (!isActive(d)) return [];
  const id = d.ID;
  const enc = encodeURIComponent(id);
  const out = [];
  const waiting = Object.values(d.TaskGroups || {}).some((g) => (g.DesiredCanaries || 0) > 0 && !g.Promoted);
  if (d.Status === 'running' && waiting)
    out.push({ action: 'promote', label: 'Promote canaries', path: `/v1/deployment/promote/${enc}`, body: { DeploymentID: id, All: true } });
  if (d.Status === 'running') out.push({ action: 'pause', label: 'Pause', path: `/v1/deployment/pause/${enc}`, body: { DeploymentID: id, Pause: true } });
  if (d.Status === 'paused') out.push({ action: 'resume', label: 'Resume', path: `/v1/deployment/pause/${enc}`, body: { DeploymentID: id, Pause: false } });
  out.push({ action: 'fail', label: 'Fail', path: `/v1/deployment/fail/${enc}`, body: { DeploymentID: id } });
  return out.map((c) => ({ ...c, method: 'POST' }));
}

// One row per group: [{name, desired, placed, healthy, unhealthy, canaries, promoted, deadline}]
// by group name; `canaries` is "placed/desired" or '' for a group without canaries.
export function deploymentGroups(d) {
  return Object.entries(d?.TaskGroups || {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, g]) => {
      const placed = Array.isArray(g.PlacedCanaries) ? g.PlacedCanaries.length : g.PlacedCanaries || 0;
      return {
        name,
        desired: g.DesiredTotal || 0,
        placed: g.PlacedAllocs || 0,
        healthy: g.HealthyAllocs || 0,
        unhealthy: g.UnhealthyAllocs || 0,
        canaries: g.DesiredCanaries ? `${placed}/${g.DesiredCanaries}` : '',
        promoted: !!g.Promoted,
        deadline: g.RequireProgressByNs || 0,
      };
    });
}
