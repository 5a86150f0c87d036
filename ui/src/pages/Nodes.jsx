// Cluster mode: every node the servers know (down ones too, until node GC), with its status,
// scheduling eligibility and drain; each links to its page.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { useLive } from '../live.js';
import { nodeStatusClass, shortId } from '../status.js';
import { Problem } from '../components/Problem.jsx';

export function NodesPage() {
  const [nodes, setNodes] = useState(null);
  const [error, setError] = useState(null);
  useLive(() =>
    get('/v1/nodes').then((n) => {
      setNodes(n);
      setError(null);
    }, setError),
  );
  return (
    <section>
      <h1>Nodes</h1>
      <Problem error={error} />
      {nodes && nodes.length === 0 && <p class="muted">No node has registered.</p>}
      {nodes && nodes.length > 0 && (
        <table class="list" data-testid="nodes">
          <thead>
            <tr>
              <th>Node</th>
              <th>ID</th>
              <th>Datacenter</th>
              <th>Pool / class</th>
              <th>Status</th>
              <th>Eligibility</th>
              <th>Drain</th>
              <th>Address</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr data-node={n.Name}>
                <td>
                  <a href={'#/node/' + encodeURIComponent(n.ID)}>{n.Name}</a>
                </td>
                <td class="mono">{shortId(n.ID)}</td>
                <td>{n.Datacenter}</td>
                <td>
                  {n.NodePool}
                  {n.NodeClass ? ' / ' + n.NodeClass : ''}
                </td>
                <td>
                  <span class={'status ' + nodeStatusClass(n.Status)} data-testid="node-status">
                    {n.Status}
                  </span>
                </td>
                <td data-testid="node-eligibility">{n.SchedulingEligibility}</td>
                <td data-testid="node-drain">{n.Drain ? 'draining' : 'no'}</td>
                <td class="mono">{n.HTTPAddr}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
