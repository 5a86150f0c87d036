// A job's page: its groups and tasks, its allocs live, the job as JSON, and Stop (when the
// token allows it).
import { useState } from 'preact/hooks';
import { get, send, policy } from '../api.js';
import { useLive } from '../live.js';
import { allows, countByState, failures, formatTime, shortId } from '../status.js';
import { Problem } from '../components/Problem.jsx';

export function JobPage({ id }) {
  const [job, setJob] = useState(null);
  const [allocs, setAllocs] = useState([]);
  const [error, setError] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [showJson, setShowJson] = useState(false);
  const path = '/v1/job/' + encodeURIComponent(id);
  useLive(
    () =>
      Promise.all([get(path), get(path + '/allocations')]).then(([j, a]) => {
        setJob(j);
        setAllocs(a);
        setError(null);
      }, setError),
    (e) => e.Topic === 'alloc' || e.Topic === 'task' || e.Topic === 'Allocation',
    [id],
  );
  const act = async (method, url, body) => {
    setActionError(null);
    try {
      await send(method, url, body);
    } catch (e) {
      setActionError(e);
    }
  };
  if (error && !job) return <Problem error={error} />;
  if (!job) return <p class="muted">Loading…</p>;
  const mayStop = allows(policy.value, 'stop');
  const counts = countByState(allocs);
  return (
    <section>
      <h1>
        Job <span data-testid="job-id">{job.ID}</span>{' '}
        <span class={'status ' + job.Status} data-testid="job-status">
          {job.Status}
        </span>
      </h1>
      <p class="muted">
        {job.Type} · priority {job.Priority} · submitted {formatTime(job.SubmitTime)} ·{' '}
        {Object.entries(counts)
          .filter(([, n]) => n)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ') || 'no allocs'}
      </p>
      <div class="actions">
        {!job.Stop && (
          <button
            class="danger"
            data-testid="stop-job"
            disabled={!mayStop}
            title={mayStop ? 'Stop every alloc of this job' : 'your token may not stop jobs (needs submit)'}
            onClick={() => act('DELETE', path)}
          >
            Stop
          </button>
        )}
        {job.Periodic && !job.Stop && allows(policy.value, 'force') && (
          <button onClick={() => act('POST', path + '/periodic/force')}>Periodic force</button>
        )}
        {!mayStop && <span class="muted">read-only token: Stop is off</span>}
      </div>
      <Problem error={actionError} />
      <h2>Groups</h2>
      <table class="list">
        <thead>
          <tr>
            <th>Group</th>
            <th class="num">Count</th>
            <th>Tasks (driver)</th>
          </tr>
        </thead>
        <tbody>
          {(job.TaskGroups || []).map((g) => (
            <tr>
              <td>{g.Name}</td>
              <td class="num">{g.Count}</td>
              <td>{(g.Tasks || []).map((t) => `${t.Name} (${t.Driver})`).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Allocations</h2>
      <AllocTable allocs={allocs} />
      <h2>
        Definition{' '}
        <button class="small" onClick={() => setShowJson(!showJson)}>
          {showJson ? 'hide' : 'show JSON'}
        </button>
      </h2>
      {showJson && <pre class="json" data-testid="job-json">{JSON.stringify(job, null, 2)}</pre>}
    </section>
  );
}

export function AllocTable({ allocs }) {
  if (!allocs.length) return <p class="muted">No allocations.</p>;
  return (
    <table class="list" data-testid="allocs">
      <thead>
        <tr>
          <th>Alloc</th>
          <th>Group</th>
          <th>Status</th>
          <th>Desired</th>
          <th>Why</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {allocs.map((a) => (
          <tr data-alloc={a.ID}>
            <td>
              <a href={'#/alloc/' + a.ID} class="mono">
                {shortId(a.ID)}
              </a>
            </td>
            <td>{a.TaskGroup}</td>
            <td>
              <span class={'status ' + a.ClientStatus} data-testid="alloc-status">
                {a.ClientStatus}
              </span>
            </td>
            <td>{a.DesiredStatus}</td>
            <td class="reason">
              {failures(a)
                .map((f) => `${f.task}: ${f.reason}`)
                .join('; ') || a.ClientDescription || ''}
            </td>
            <td class="muted">{formatTime(a.CreateTime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
