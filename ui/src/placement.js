// Why a server placed an alloc where it is: Nomad's ScoreMetaData as a table (each top
// candidate node's scores, sorted by name as `alloc status -verbose` sorts them, and its final
// score), and the allocs it preempted or was preempted by.

// { columns: ['binpack', ...], rows: [{ node, scores: [..], final }] }, or null without scores.
export function placementTable(metrics) {
  const meta = metrics?.ScoreMetaData;
  if (!Array.isArray(meta) || meta.length === 0) return null;
  const columns = Object.keys(meta[0].Scores || {}).sort();
  const rows = meta.map((m) => ({
    node: m.NodeID,
    scores: columns.map((c) => (typeof m.Scores?.[c] === 'number' ? m.Scores[c] : 0)),
    final: typeof m.NormScore === 'number' ? m.NormScore : 0,
  }));
  return { columns, rows };
}

// Nomad's "%.3g".
export function scoreText(v) {
  return Number(v.toPrecision(3)).toString();
}

// The preemption links of an alloc: { by: id | null, evicted: [ids] }.
export function preemption(alloc) {
  return {
    by: alloc?.PreemptedByAllocation || null,
    evicted: Array.isArray(alloc?.PreemptedAllocations) ? alloc.PreemptedAllocations : [],
  };
}
