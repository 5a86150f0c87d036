// A small live line chart in plain SVG (no inline styles or scripts, so the CSP holds): the
// last samples of one value, its current value as text, and an optional limit drawn as a
// dashed line that the scale always includes (memory against its limit).
const W = 260;
const H = 64;

export function Chart({ label, series, format = String, max = 0, limit = 0, testid }) {
  const pts = series || [];
  const last = pts.length ? pts[pts.length - 1].v : null;
  // A fixed top (100 for a percentage) unless a value passes it; else room above the peak.
  const vals = pts.map((p) => p.v);
  const top = max ? Math.max(max, ...vals) : Math.max(limit, ...vals, 1) * 1.1;
  const t0 = pts.length ? pts[0].t : 0;
  const span = pts.length > 1 ? pts[pts.length - 1].t - t0 : 1;
  const x = (t) => (pts.length > 1 ? ((t - t0) / span) * (W - 2) + 1 : W - 1);
  const y = (v) => H - 1 - (v / top) * (H - 2);
  const line = pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  return (
    <figure class="chart" data-testid={testid} data-samples={pts.length}>
      <figcaption>
        <span>{label}</span>{' '}
        <b data-testid={testid && testid + '-value'}>{last === null ? '—' : format(last)}</b>
        {limit > 0 && <span class="muted"> of {format(limit)}</span>}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={label}>
        <rect class="frame" x="0.5" y="0.5" width={W - 1} height={H - 1} />
        {limit > 0 && <line class="limit" x1="1" x2={W - 1} y1={y(limit)} y2={y(limit)} />}
        {pts.length > 1 && <polyline class="series" points={line} />}
        {pts.length === 1 && <circle class="series" cx={x(pts[0].t)} cy={y(pts[0].v)} r="2" />}
      </svg>
    </figure>
  );
}
