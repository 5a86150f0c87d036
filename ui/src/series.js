// What the live charts show, computed from the stats endpoints' JSON: a bounded series of
// samples, an alloc's cpu / memory / pids sample and memory limit, each GPU's sample, and
// human units.

// How many samples a chart keeps (one a second: the last two minutes).
export const KEEP = 120;

// `series` with {t, v} appended, dropping the oldest past `keep`; a new array (for state).
export function append(series, t, v, keep = KEEP) {
  const out = (series || []).concat([{ t, v }]);
  return out.length > keep ? out.slice(out.length - keep) : out;
}

// One sample of an alloc's use from /v1/client/allocation/:id/stats: cpu percent, memory
// bytes (RSS where measured, else usage), and the number of processes over all tasks.
export function allocSample(stats) {
  const ru = stats?.ResourceUsage || {};
  const mem = ru.MemoryStats || {};
  let pids = 0;
  for (const t of Object.values(stats?.Tasks || {})) pids += Object.keys(t.Pids || {}).length;
  return {
    t: Number(stats?.Timestamp || 0) / 1e6,
    cpu: Number(ru.CpuStats?.Percent || 0),
    memory: Number(mem.RSS || mem.Usage || 0),
    pids,
  };
}

// The memory an alloc may use, in bytes: the sum over its group's tasks of MemoryMaxMB when
// set (the hard limit), else MemoryMB; 0 when the job says nothing.
export function memoryLimit(alloc) {
  const group = (alloc?.Job?.TaskGroups || []).find((g) => g.Name === alloc.TaskGroup);
  let mb = 0;
  for (const t of group?.Tasks || []) {
    const r = t.Resources || {};
    mb += Number(r.MemoryMaxMB) > 0 ? Number(r.MemoryMaxMB) : Number(r.MemoryMB || 0);
  }
  return mb * 1024 * 1024;
}

// The services an alloc's group declares (the group's and its tasks'): [{Name, Task,
// PortLabel, Provider, Checks: [names]}].
export function declaredServices(alloc) {
  const group = (alloc?.Job?.TaskGroups || []).find((g) => g.Name === alloc.TaskGroup);
  const out = [];
  const add = (s, task) =>
    out.push({ Name: s.Name, Task: task, PortLabel: s.PortLabel || '', Provider: s.Provider || 'nomad', Checks: (s.Checks || []).map((c) => c.Name || c.Type) });
  for (const s of group?.Services || []) add(s, '');
  for (const t of group?.Tasks || []) for (const s of t.Services || []) add(s, t.Name);
  return out;
}

// Each GPU (device instance) in /v1/client/stats's DeviceStats: [{id, name, util (%),
// memUsed, memTotal (MiB), temp (C), stats (all, {Value, Unit})}], sorted by id.
export function gpuSamples(hostStats) {
  const out = [];
  for (const g of hostStats?.DeviceStats || []) {
    for (const [id, inst] of Object.entries(g.InstanceStats || {})) {
      const s = inst.Stats || {};
      const val = (k) => (s[k] && s[k].Value !== undefined ? Number(s[k].Value) : null);
      out.push({
        id,
        name: [g.Vendor, g.Type, g.Name].filter(Boolean).join('/'),
        util: val('GPU utilization'),
        memUsed: val('Memory used'),
        memTotal: val('Memory total'),
        temp: val('Temperature'),
        stats: s,
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// Bytes as B, KiB, MiB or GiB with at most one decimal.
export function formatBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n) || 0;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? String(Math.round(v)) : v.toFixed(v >= 100 ? 0 : 1)) + ' ' + units[i];
}
