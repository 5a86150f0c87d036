// The node's page: identity, cgroup mode, drivers and their health, devices and each GPU's
// live use, host volumes, networks, its metadata (settable) and every attribute (filterable);
// a cluster node's also its eligibility and drain controls.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { useLive } from '../live.js';
import { Problem } from '../components/Problem.jsx';
import { GpuStats } from '../components/GpuStats.jsx';
import { NodeControls } from '../components/NodeControls.jsx';
import { NodeMeta } from '../components/NodeMeta.jsx';
import { nodeIsDown, nodeStatusClass } from '../status.js';

function Value({ v }) {
  if (v === null || v === undefined) return <span class="muted">—</span>;
  if (typeof v === 'object') return <code>{JSON.stringify(v)}</code>;
  return <>{String(v)}</>;
}

// `id` set: a node of the cluster (served by a server, GET /v1/node/<id>); else this agent's.
export function NodePage({ id }) {
  const [node, setNode] = useState(null);
  const [error, setError] = useState(null);
  const [filter, setFilter] = useState('');
  const load = () =>
    get(id ? '/v1/node/' + encodeURIComponent(id) : '/v1/node').then((n) => {
      setNode(n);
      setError(null);
    }, setError);
  useLive(load, (e) => e.Topic === 'node' || e.Topic === 'Node', [id]);
  if (error && !node) return <Problem error={error} />;
  if (!node) return <p class="muted">Loading…</p>;
  const attrs = node.Attributes || {};
  const res = node.NodeResources || {};
  const devices = res.Devices || [];
  const volumes = Object.entries(node.HostVolumes || {});
  const networks = res.NodeNetworks || res.Networks || [];
  return (
    <section>
      <h1>
        Node <span data-testid="node-name">{node.Name}</span>{' '}
        <span class={'status ' + nodeStatusClass(node.Status)} data-testid="node-page-status">
          {node.Status}
        </span>
      </h1>
      <p class="muted">
        {node.ID} · datacenter {node.Datacenter} · {node.HTTPAddr} · cgroups{' '}
        <b data-testid="cgroup-mode">{attrs['unique.cgroup.version'] || 'v' + (attrs['os.cgroups.version'] || '?')}</b> ·{' '}
        {attrs['cpu.numcores']} cores · {Math.round((res.Memory?.MemoryMB || 0) / 1024)} GiB
        {node.SchedulingEligibility ? ' · ' + node.SchedulingEligibility : ''}
        {node.Drain ? ' · draining' : ''}
      </p>
      {id && <NodeControls node={node} onChange={load} />}
      <h2>Drivers</h2>
      <table class="list" data-testid="drivers">
        <thead>
          <tr>
            <th>Driver</th>
            <th>Detected</th>
            <th>Health</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(node.Drivers || {}).map(([name, d]) => (
            <tr>
              <td>{name}</td>
              <td>{d.Detected ? 'yes' : 'no'}</td>
              <td>
                <span class={'status ' + (d.Healthy ? 'running' : 'failed')}>{d.Healthy ? 'healthy' : 'unhealthy'}</span>
              </td>
              <td>{d.HealthDescription}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Devices</h2>
      {devices.length === 0 ? (
        <p class="muted">No devices.</p>
      ) : (
        <table class="list" data-testid="devices">
          <thead>
            <tr>
              <th>Device</th>
              <th>Instances</th>
              <th>Attributes</th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr>
                <td>{[d.Vendor, d.Type, d.Name].filter(Boolean).join('/') || d.Plugin}</td>
                <td>
                  {(d.Instances || d.IDs || []).map((i) => (
                    <div>
                      <Value v={typeof i === 'object' ? `${i.ID} ${i.Healthy === false ? '(unhealthy)' : ''}` : i} />
                    </div>
                  ))}
                </td>
                <td>
                  <Value v={d.Attributes} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!id && <GpuStats />}
      <h2>Host volumes</h2>
      {volumes.length === 0 ? (
        <p class="muted">No host volumes.</p>
      ) : (
        <table class="list" data-testid="host-volumes">
          <thead>
            <tr>
              <th>Name</th>
              <th>Path</th>
              <th>Read-only</th>
            </tr>
          </thead>
          <tbody>
            {volumes.map(([name, v]) => (
              <tr>
                <td>{name}</td>
                <td class="mono">{v.Path}</td>
                <td>{v.ReadOnly ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Networks</h2>
      <table class="list" data-testid="networks">
        <thead>
          <tr>
            <th>Mode</th>
            <th>Device</th>
            <th>Addresses</th>
          </tr>
        </thead>
        <tbody>
          {networks.map((n) => (
            <tr>
              <td>{n.Mode}</td>
              <td>{n.Device || n.Interface}</td>
              <td class="mono">
                {(n.Addresses || []).map((a) => `${a.Alias || ''} ${a.Address || a.IP || ''}`).join(', ') || n.IP || n.CIDR}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {nodeIsDown(node) ? (
        // Its agent is gone: the metadata as it last registered, read-only.
        <div data-testid="node-meta-down">
          <h2>Metadata</h2>
          <table class="list attrs">
            <tbody>
              {Object.keys(node.Meta || {})
                .sort()
                .map((k) => (
                  <tr>
                    <td class="mono">{k}</td>
                    <td>{node.Meta[k]}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      ) : (
        <NodeMeta nodeId={node.ID} cluster={!!id} />
      )}
      <h2>
        Attributes{' '}
        <input class="filter" placeholder="filter" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </h2>
      <table class="list attrs" data-testid="attributes">
        <tbody>
          {Object.keys(attrs)
            .sort()
            .filter((k) => k.includes(filter) || String(attrs[k]).includes(filter))
            .map((k) => (
              <tr>
                <td class="mono">{k}</td>
                <td>
                  <Value v={attrs[k]} />
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}
