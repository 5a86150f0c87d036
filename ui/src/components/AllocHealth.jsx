// An alloc's health (DeploymentStatus.Healthy), its checks' latest results
// (/v1/client/allocation/:id/checks, refreshed with the stats) and the services its group
// declares, with the addresses registered for this alloc in the service catalog.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { usePoll } from '../poll.js';
import { declaredServices } from '../series.js';

function healthText(alloc) {
  const h = alloc.DeploymentStatus?.Healthy;
  if (h === true) return 'healthy';
  if (h === false) return 'unhealthy';
  return alloc.ClientStatus === 'running' ? 'deciding' : 'not known';
}

export function AllocHealth({ alloc }) {
  const [checks, setChecks] = useState([]);
  const [addresses, setAddresses] = useState({});
  const services = declaredServices(alloc);
  usePoll(
    async () => {
      const c = await get(`/v1/client/allocation/${alloc.ID}/checks`);
      setChecks(Object.values(c || {}).sort((a, b) => (a.ID < b.ID ? -1 : 1)));
      const found = {};
      for (const s of services) {
        const regs = await get('/v1/service/' + encodeURIComponent(s.Name));
        found[s.Name] = (regs || []).filter((r) => r.AllocID === alloc.ID).map((r) => `${r.Address}:${r.Port}`);
      }
      setAddresses(found);
    },
    2000,
    [alloc.ID, services.length],
  );
  const health = healthText(alloc);
  return (
    <>
      <h2>
        Health{' '}
        <span class={'status ' + (health === 'healthy' ? 'running' : health === 'unhealthy' ? 'failed' : 'pending')} data-testid="alloc-health">
          {health}
        </span>
      </h2>
      {checks.length === 0 ? (
        <p class="muted">No checks.</p>
      ) : (
        <table class="list" data-testid="checks">
          <thead>
            <tr>
              <th>Check</th>
              <th>Service</th>
              <th>Task</th>
              <th>Status</th>
              <th>Output</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {checks.map((c) => (
              <tr data-check={c.Check}>
                <td>{c.Check}</td>
                <td>{c.Service}</td>
                <td>{c.Task || '—'}</td>
                <td class={'check ' + c.Status} data-testid="check-status">
                  {c.Status || 'pending'}
                  {c.StatusCode ? ` (${c.StatusCode})` : ''}
                </td>
                <td class="mono">{c.Output}</td>
                <td class="muted">{c.Timestamp ? new Date(c.Timestamp * 1000).toLocaleTimeString() : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {services.length > 0 && (
        <>
          <h2>Services</h2>
          <table class="list" data-testid="services">
            <thead>
              <tr>
                <th>Service</th>
                <th>Task</th>
                <th>Port</th>
                <th>Provider</th>
                <th>Registered at</th>
                <th>Checks</th>
              </tr>
            </thead>
            <tbody>
              {services.map((s) => (
                <tr data-service={s.Name}>
                  <td>{s.Name}</td>
                  <td>{s.Task || '(group)'}</td>
                  <td>{s.PortLabel}</td>
                  <td>{s.Provider}</td>
                  <td class="mono" data-testid="service-address">
                    {(addresses[s.Name] || []).join(', ') || '—'}
                  </td>
                  <td>{s.Checks.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
