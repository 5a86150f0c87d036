// A job's page: its groups and tasks, its allocs live, the job as submitted (HCL) or as JSON, and the actions the
// token allows: Stop, Restart (every running alloc), Periodic force, Dispatch; on a server, its latest
// deployment with Promote, Pause, Resume and Fail.
import { useState } from 'preact/hooks';
import { cluster, get, send, policy, grantFor } from '../api.js';
import { useLive } from '../live.js';
import { allows, countByState, definitionOf, diffSummary, failures, formatTime, shortId } from '../status.js';
import { Problem } from '../components/Problem.jsx';
import { DispatchForm } from '../components/DispatchForm.jsx';
import { DeploymentPanel } from '../components/DeploymentPanel.jsx';
import { safeLink } from '../links.js';
import { DEFAULT, jobApi, jobHref, withNamespace } from '../namespaces.js';
import { descriptionHtml } from '../markdown.js';

export function JobPage({ id, ns = DEFAULT }) {
  const [job, setJob] = useState(null);
  const [allocs, setAllocs] = useState([]);
  // A periodic or parameterized job's launches and dispatches.
  const [children, setChildren] = useState([]);
  // Cluster mode: every version the servers keep, newest first.
  const [versions, setVersions] = useState([]);
  const [diffs, setDiffs] = useState([]);  // diffs[i]: versions[i] against the one before it
  const [deployment, setDeployment] = useState(null);  // cluster mode: the latest, or null
  const [shownVersion, setShownVersion] = useState(null);
  const [error, setError] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [showJson, setShowJson] = useState(false);
  // The submitted source (HCL), when the job was run from one; null shows the JSON.
  const [submission, setSubmission] = useState(null);
  const path = (suffix = '') => jobApi(id, ns, suffix);
  const refresh = () =>
    Promise.all([
      get(path()),
      get(path('/allocations')),
      get(withNamespace('/v1/jobs?prefix=' + encodeURIComponent(id + '/'), ns)),
      cluster.value ? get(path('/versions?diffs=true')) : null,
      // 404: no source kept (a YAML or JSON job, or one scaled or reverted since).
      get(path('/submission')).catch(() => null),
      cluster.value ? get(path('/deployment')).catch(() => null) : null,
    ]).then(([j, a, kids, v, sub, dep]) => {
      setJob(j);
      setSubmission(sub);
      setAllocs(a);
      setChildren((kids || []).filter((k) => k.ParentID === id));
      setVersions(v?.Versions || []);
      setDiffs(v?.Diffs || []);
      setDeployment(dep && dep.ID ? dep : null);
      setError(null);
    }, setError);
  useLive(
    refresh,
    (e) => e.Topic === 'alloc' || e.Topic === 'task' || e.Topic === 'Allocation' || e.Topic === 'Job' || e.Topic === 'job',
    [id, ns],
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
  const grant = grantFor(job.Namespace);
  const mayStop = allows(policy.value, 'stop', grant);
  const definition = definitionOf(job, submission);
  const counts = countByState(allocs);
  const running = allocs.filter((a) => a.ClientStatus === 'running');
  // Nomad's `job restart`: each running alloc's tasks restarted in place, one after another.
  const restartAll = async () => {
    setActionError(null);
    try {
      for (const a of running) await send('POST', `/v1/client/allocation/${a.ID}/restart`, {});
    } catch (e) {
      setActionError(e);
    }
  };
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
      <JobUiBlock ui={job.UI} />
      <div class="actions">
        {!job.Stop && (
          <button
            class="danger"
            data-testid="stop-job"
            disabled={!mayStop}
            title={mayStop ? 'Stop every alloc of this job' : 'your token may not stop jobs (needs submit)'}
            onClick={() => act('DELETE', path())}
          >
            Stop
          </button>
        )}
        {running.length > 0 && !job.Stop && (
          <button data-testid="restart-job" disabled={!allows(policy.value, 'restart', grant)} onClick={restartAll} title="restart the tasks of every running alloc">
            Restart
          </button>
        )}
        {job.Periodic && !job.Stop && (
          <button data-testid="periodic-force" disabled={!allows(policy.value, 'force', grant)} onClick={() => act('POST', path('/periodic/force'))}>
            Periodic force
          </button>
        )}
        {!mayStop && <span class="muted">read-only token: Stop is off</span>}
      </div>
      <Problem error={actionError} />
      {job.ParameterizedJob && !job.Dispatched && !job.Stop && (
        <>
          <h2>Dispatch</h2>
          <DispatchForm job={job} allowed={allows(policy.value, 'dispatch', grant)} />
        </>
      )}
      {(job.Periodic || job.ParameterizedJob) && (
        <>
          <h2>{job.Periodic ? 'Launches' : 'Dispatched'}</h2>
          {children.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <table class="list" data-testid="children">
              <tbody>
                {children.map((c) => (
                  <tr data-child={c.ID}>
                    <td>
                      <a href={jobHref(c.ID, c.Namespace || ns)}>{c.ID}</a>
                    </td>
                    <td>
                      <span class={'status ' + c.Status}>{c.Status}</span>
                    </td>
                    <td class="muted">{formatTime(c.SubmitTime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      <DeploymentPanel deployment={deployment} onChange={refresh} />
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
      {versions.length > 0 && (
        <>
          <h2>Versions</h2>
          <table class="list" data-testid="versions">
            <thead>
              <tr>
                <th class="num">Version</th>
                <th>Tag</th>
                <th>Submitted</th>
                <th>Stopped</th>
                <th>Changes</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v, i) => (
                <tr data-version={v.Version}>
                  <td class="num">{v.Version}</td>
                  <td data-testid="version-tag" title={v.VersionTag?.Description || ''}>
                    {v.VersionTag && <span class="status complete">{v.VersionTag.Name}</span>}
                  </td>
                  <td class="muted">{formatTime(v.SubmitTime)}</td>
                  <td>{v.Stop ? 'yes' : ''}</td>
                  <td class="changes" data-testid="version-changes">
                    {i < diffs.length
                      ? diffSummary(diffs[i]).map((line) => <div class="mono">{line}</div>)
                      : i === versions.length - 1 && <span class="muted">first version</span>}
                  </td>
                  <td>
                    <button class="small" data-testid="show-version" onClick={() => setShownVersion(shownVersion === v.Version ? null : v.Version)}>
                      {shownVersion === v.Version ? 'hide' : 'show JSON'}
                    </button>{' '}
                    {i > 0 && (
                      <button
                        class="small"
                        data-testid="revert"
                        disabled={!allows(policy.value, 'submit', grant)}
                        onClick={() => act('POST', path('/revert'), { JobID: id, JobVersion: v.Version })}
                        title={'run version ' + v.Version + "'s spec again as a new version"}
                      >
                        revert to this
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {shownVersion !== null && (
            <pre class="json" data-testid="version-json">
              {JSON.stringify(versions.find((v) => v.Version === shownVersion), null, 2)}
            </pre>
          )}
        </>
      )}
      <h2>
        Definition{' '}
        <button class="small" data-testid="show-definition" onClick={() => setShowJson(!showJson)}>
          {showJson ? 'hide' : 'show ' + definition.format}
        </button>
      </h2>
      {showJson && (
        <pre class="json" data-testid="job-definition" data-format={definition.format}>
          {definition.text}
        </pre>
      )}
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

// The job's `ui` block (Nomad 1.8): its description as Markdown, as Nomad's UI shows it (its
// raw HTML as text, the result sanitized: markdown.js), and its links, only http and https
// ones (the agent refuses others at submit).
function JobUiBlock({ ui }) {
  if (!ui || (!ui.Description && !(ui.Links || []).length)) return null;
  const links = (ui.Links || []).filter((l) => safeLink(l.Url));
  return (
    <div class="job-ui" data-testid="job-ui">
      {ui.Description && (
        <div class="description" data-testid="job-description" dangerouslySetInnerHTML={{ __html: descriptionHtml(ui.Description) }} />
      )}
      {links.length > 0 && (
        <p class="links">
          {links.map((l) => (
            <a href={l.Url} target="_blank" rel="noopener noreferrer" data-testid="job-link">
              {l.Label || l.Url}
            </a>
          ))}
        </p>
      )}
    </div>
  );
}
