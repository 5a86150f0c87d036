// Cluster mode: the servers (members) and which one leads.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { useLive } from '../live.js';
import { Problem } from '../components/Problem.jsx';

export function ServersPage() {
  const [members, setMembers] = useState(null);
  const [error, setError] = useState(null);
  useLive(() =>
    get('/v1/agent/members').then((m) => {
      setMembers(m);
      setError(null);
    }, setError),
  );
  const list = members?.Members || [];
  return (
    <section>
      <h1>Servers</h1>
      <Problem error={error} />
      {members && (
        <p class="muted">
          this page is served by <b>{members.ServerName}</b>
        </p>
      )}
      {list.length > 0 && (
        <table class="list" data-testid="servers">
          <thead>
            <tr>
              <th>Server</th>
              <th>Address</th>
              <th>Status</th>
              <th>Leader</th>
            </tr>
          </thead>
          <tbody>
            {list.map((m) => (
              <tr data-server={m.Name}>
                <td>{m.Name}</td>
                <td class="mono">{m.HTTPAddr || `${m.Addr}:${m.Port}`}</td>
                <td>
                  <span class={'status ' + (m.Status === 'alive' ? 'running' : 'failed')}>{m.Status}</span>
                </td>
                <td data-testid="server-leader">{m.Tags?.leader === 'true' ? 'leader' : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
