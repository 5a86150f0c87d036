// The jobs list: each job's status and its allocs counted by state, kept live by the stream.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { useLive } from '../live.js';
import { ALLOC_STATES, allocsByJob, countByState, formatTime } from '../status.js';
import { Problem } from '../components/Problem.jsx';

export function JobsPage() {
  const [jobs, setJobs] = useState(null);
  const [allocs, setAllocs] = useState([]);
  const [error, setError] = useState(null);
  useLive(
    () =>
      Promise.all([get('/v1/jobs'), get('/v1/allocations?task_states=false')]).then(
        ([j, a]) => {
          setJobs(j);
          setAllocs(a);
          setError(null);
        },
        setError,
      ),
    (e) => e.Topic === 'alloc' || e.Topic === 'Allocation',
  );
  const by = allocsByJob(allocs);
  return (
    <section>
      <h1>Jobs</h1>
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
              const c = countByState(by[j.ID]);
              return (
                <tr data-job={j.ID}>
                  <td>
                    <a href={'#/job/' + encodeURIComponent(j.ID)}>{j.Name || j.ID}</a>
                  </td>
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
