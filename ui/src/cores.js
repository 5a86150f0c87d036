// The cores each task of an alloc holds for itself (`resources { cores = N }`, docs/cgroups.md):
// Nomad's AllocatedResources.Tasks.<task>.Cpu.ReservedCores, as a cpu list ("0-1,4").

// [0, 1, 4] -> "0-1,4".
export function formatCpus(cores) {
  const sorted = [...new Set(cores)].sort((a, b) => a - b);
  const parts = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

// {task: "0-1"} for the tasks that hold cores; the others are left out.
export function reservedCores(alloc) {
  const out = {};
  const tasks = alloc?.AllocatedResources?.Tasks || {};
  for (const [name, t] of Object.entries(tasks)) {
    const cores = t?.Cpu?.ReservedCores || [];
    if (cores.length) out[name] = formatCpus(cores);
  }
  return out;
}
