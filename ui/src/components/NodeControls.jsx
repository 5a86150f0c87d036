// A cluster node's scheduling controls (served by `drover server`): eligibility, and a drain
// with Nomad's deadline, force and ignore-system options (docs/cluster.md, "Drain"); for a
// node that is down, since when and a purge instead of the drain (docs/cluster.md, "Down
// nodes"). What the node shows comes from the server; these buttons only ask.
import { useState } from 'preact/hooks';
import { grantFor, policy, send } from '../api.js';
import { allows, formatTime, nodeIsDown, parseDuration } from '../status.js';
import { Problem } from './Problem.jsx';

export function NodeControls({ node, onChange }) {
  const [deadline, setDeadline] = useState('1h');
  const [ignoreSystem, setIgnoreSystem] = useState(false);
  const [error, setError] = useState(null);
  const path = '/v1/node/' + encodeURIComponent(node.ID);
  const may = allows(policy.value, 'drain', grantFor('default'));  // the node policy: any namespace's answer
  const act = async (what, body) => {
    setError(null);
    try {
      await send('POST', path + '/' + what, body);
      onChange?.();
    } catch (e) {
      setError(e);
    }
  };
  const drain = (force) => {
    const ns = force ? -1 : parseDuration(deadline);
    if (ns === null) return setError(new Error(`deadline: "${deadline}" is not a duration such as 1h or 30m`));
    act('drain', { DrainSpec: { Deadline: ns, IgnoreSystemJobs: ignoreSystem } });
  };
  // A down node forgotten at once (Nomad's purge); the list is where to go next.
  const purge = async () => {
    setError(null);
    try {
      await send('POST', path + '/purge', {});
      location.hash = '#/nodes';
    } catch (e) {
      setError(e);
    }
  };
  const ds = node.DrainStrategy;
  const eligible = node.SchedulingEligibility === 'eligible';
  const eligibilityButton = (
    <button
      data-testid="eligibility-toggle"
      disabled={!may}
      onClick={() => act('eligibility', { Eligibility: eligible ? 'ineligible' : 'eligible' })}
    >
      {eligible ? 'Make ineligible' : 'Make eligible'}
    </button>
  );
  return (
    <div class="node-controls" data-testid="node-controls">
      <h2>Scheduling</h2>
      <p>
        <span data-testid="node-eligibility">{node.SchedulingEligibility}</span>
        {node.Drain ? (
          <span data-testid="node-draining">
            {' '}
            · draining
            {ds?.ForceDeadline ? ', forced at ' + ds.ForceDeadline : ds?.Deadline < 0 ? ', forced' : ', no deadline'}
            {ds?.IgnoreSystemJobs ? ', system jobs left running' : ''}
          </span>
        ) : null}
        {!node.Drain && node.LastDrain ? (
          <span class="muted" data-testid="node-last-drain">
            {' '}
            · last drain {node.LastDrain.Status} {node.LastDrain.UpdatedAt || ''}
          </span>
        ) : null}
      </p>
      {nodeIsDown(node) && (
        <p class="notice" data-testid="node-down">
          {node.Status}
          {node.StatusUpdatedAt ? ' since ' + formatTime(node.StatusUpdatedAt * 1e9) : ''}
          {node.StatusDescription ? ': ' + node.StatusDescription : ''}. The server keeps it until
          node GC; its agent coming back makes it ready again.
        </p>
      )}
      <div class="actions">
        {nodeIsDown(node) && !node.Drain ? (
          <>
            {eligibilityButton}
            <button data-testid="node-purge" disabled={!may} onClick={purge} title="forget this node now">
              Purge
            </button>
          </>
        ) : node.Drain ? (
          <button data-testid="drain-stop" disabled={!may} onClick={() => act('drain', { DrainSpec: null, MarkEligible: true })}>
            Stop drain
          </button>
        ) : (
          <>
            <label>
              deadline <input data-testid="drain-deadline" size="6" value={deadline} onInput={(e) => setDeadline(e.currentTarget.value)} />
            </label>
            <label>
              <input type="checkbox" checked={ignoreSystem} onChange={(e) => setIgnoreSystem(e.currentTarget.checked)} /> leave system jobs
            </label>
            <button data-testid="drain-start" disabled={!may} onClick={() => drain(false)}>
              Drain
            </button>
            <button data-testid="drain-force" disabled={!may} onClick={() => drain(true)} title="move every allocation off now">
              Force drain
            </button>
            {eligibilityButton}
          </>
        )}
      </div>
      {error && <Problem error={error} />}
    </div>
  );
}
