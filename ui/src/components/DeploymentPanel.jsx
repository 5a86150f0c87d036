// A job's latest deployment (served by `drover server`): its status, each group's counts, and
// Nomad's controls on it: Promote canaries, Pause, Resume, Fail (docs/cluster.md, "Operating
// a deployment"). What it shows comes from the server; the buttons only ask.
import { useState } from 'preact/hooks';
import { grantFor, policy, send } from '../api.js';
import { deploymentControls, deploymentGroups } from '../deployment.js';
import { allows, formatTime, shortId } from '../status.js';
import { Problem } from './Problem.jsx';

export function DeploymentPanel({ deployment, onChange }) {
  const [error, setError] = useState(null);
  if (!deployment) return null;
  const may = allows(policy.value, 'submit', grantFor(deployment.Namespace));
  const act = async (c) => {
    setError(null);
    try {
      await send(c.method, c.path, c.body);
      onChange?.();
    } catch (e) {
      setError(e);
    }
  };
  const rows = deploymentGroups(deployment);
  const canaries = rows.some((r) => r.canaries);
  return (
    <div data-testid="deployment">
      <h2>Latest deployment</h2>
      <p>
        <span class="mono">{shortId(deployment.ID)}</span> · version {deployment.JobVersion} ·{' '}
        <span class={'status ' + deployment.Status} data-testid="deployment-status">
          {deployment.Status}
        </span>{' '}
        <span class="muted" data-testid="deployment-description">
          {deployment.StatusDescription}
        </span>
      </p>
      <table class="list" data-testid="deployment-groups">
        <thead>
          <tr>
            <th>Group</th>
            {canaries && <th>Canaries</th>}
            <th class="num">Desired</th>
            <th class="num">Placed</th>
            <th class="num">Healthy</th>
            <th class="num">Unhealthy</th>
            <th>Progress deadline</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr data-group={r.name}>
              <td>{r.name}</td>
              {canaries && <td>{r.canaries ? r.canaries + (r.promoted ? ' (promoted)' : '') : ''}</td>}
              <td class="num">{r.desired}</td>
              <td class="num">{r.placed}</td>
              <td class="num" data-testid="deployment-healthy">
                {r.healthy}
              </td>
              <td class="num">{r.unhealthy}</td>
              <td class="muted">{r.deadline ? formatTime(r.deadline) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        {deploymentControls(deployment).map((c) => (
          <button
            class={c.action === 'fail' ? 'danger' : ''}
            data-testid={'deployment-' + c.action}
            disabled={!may}
            title={may ? '' : 'your token may not change deployments (needs submit)'}
            onClick={() => act(c)}
          >
            {c.label}
          </button>
        ))}
      </div>
      <Problem error={error} />
    </div>
  );
}
