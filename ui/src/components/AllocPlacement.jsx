// Where a server placed the alloc and why: the preemptions either way, and the top candidate
// nodes' scores (Nomad's Placement Metrics). Nothing for an alloc an agent ran on its own.
import { placementTable, preemption, scoreText } from '../placement.js';
import { shortId } from '../status.js';

function allocLink(id) {
  return (
    <a class="mono" href={'#/alloc/' + encodeURIComponent(id)}>
      {shortId(id)}
    </a>
  );
}

export function AllocPlacement({ alloc }) {
  const table = placementTable(alloc.Metrics);
  const p = preemption(alloc);
  if (!table && !p.by && p.evicted.length === 0) return null;
  return (
    <>
      <h2>Placement</h2>
      {p.by && <p data-testid="preempted-by">Preempted by alloc {allocLink(p.by)}</p>}
      {p.evicted.length > 0 && (
        <p data-testid="preempted-allocs">
          Preempted {p.evicted.map((id, i) => (
            <>
              {i > 0 ? ', ' : ''}
              {allocLink(id)}
            </>
          ))}
        </p>
      )}
      {table && (
        <table class="list" data-testid="placement-scores">
          <thead>
            <tr>
              <th>Node</th>
              {table.columns.map((c) => (
                <th>{c}</th>
              ))}
              <th>final score</th>
            </tr>
          </thead>
          <tbody>
            {table.rows.map((r) => (
              <tr>
                <td class="mono">{r.node === alloc.NodeID ? <b>{shortId(r.node)}</b> : shortId(r.node)}</td>
                {r.scores.map((s) => (
                  <td>{scoreText(s)}</td>
                ))}
                <td>{scoreText(r.final)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
