// The jobs list: each job's status and its allocs counted by state, kept live by the stream;
// one namespace or every one (the choice is kept for the tab).
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { useLive } from '../live.js';
import { ALL, jobHref, jobKey, listNamespace, namespaceChoices, setListNamespace, withNamespace } from '../namespaces.js';
import { ALLOC_STATES, allocsByJob, countByState, formatTime } from '../status.js';
import { Problem } from '../components/Problem.jsx';

export function JobsPage() {
  const [jobs, setJobs] = useState(null);
  const [allocs, setAllocs] = useState([]);
  const [choices, setChoices] = useState([]);
  const [error, setError] = useState(null);
  const ns = listNamespace.value;
  useLive(
    () =>
      Promise.all([
        get(withNamespace('/v1/jobs', ns)),
        get(withNamespace('/v1/allocations?task_states=false', ns)),
        // The namespaces to offer: those with jobs.
        ns === ALL ? null : get(withNamespace('/v1/jobs', ALL)),
      ]).then(([j, a, every]) => {
        setJobs(j);
        setAllocs(a);
        setChoices(namespaceChoices(every || j, ns));
        setError(null);
      }, setError),
    (e) => e.Topic === 'alloc' || e.Topic === 'Allocation' || e.Topic === 'Job' || e.Topic === 'job',
    [ns],
  );
  const by = allocsByJob(allocs);
  const all = ns === ALL;
  return (
    <section>
      <h1>Jobs</h1>
      <div class="actions">
        <label>
          Namespace{' '}
          <select data-testid="namespace" value={ns} onChange={(e) => setListNamespace(e.currentTarget.value)}>
            <option value={ALL}>all namespaces</option>
            {choices.map((n) => (
              <option value={n}>{n}</option>
            ))}
          </select>
        </label>
      </div>
      <Problem error={error} />
      {jobs && jobs.length === 0 && (
        <p class="muted">
          No jobs yet. <a href="#/submit">Run one.</a>
        </p>
      )}
      {jobs && jobs.length > 0 && (
        <table class="list" data-testid="jobs">
          <thead>
            <tr>
              <th>Job</th>
              {all && <th>Namespace</th>}
              <th>Type</th>
              <th>Status</th>
              {ALLOC_STATES.map((s) => (
                <th class="num">{s}</th>
              ))}
              <th>Submitted</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => {
              const c = countByState(by[jobKey(j.Namespace, j.ID)]);
              return (
                <tr data-job={j.ID} data-namespace={j.Namespace}>
                  <td>
                    <a href={jobHref(j.ID, j.Namespace)}>{j.Name || j.ID}</a>
                  </td>
                  {all && <td data-testid="job-namespace">{j.Namespace}</td>}
                  <td>{j.Type}</td>
                  <td>
                    <span class={'status ' + j.Status}>{j.Status}</span>
                  </td>
                  {ALLOC_STATES.map((s) => (
                    <td class={'num ' + (c[s] ? s : 'muted')} data-count={s}>
                      {c[s]}
                    </td>
                  ))}
                  <td class="muted">{formatTime(j.SubmitTime)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
