// Run a job: paste or load an HCL, YAML or JSON job file; the agent checks it and its problems
// are listed with their field path (and line for HCL); a valid job runs and its page opens.
// On a server (cluster mode) Plan shows first what running it would change, as `job plan`, and
// a Run after it is refused if the job changed since (Nomad's EnforceIndex).
import { useState } from 'preact/hooks';
import { cluster, grantFor, policy, send } from '../api.js';
import { allows, planSummary, problemsOf, registerRequest } from '../status.js';
import { Problem } from '../components/Problem.jsx';
import { jobApi, jobHref } from '../namespaces.js';

export function SubmitPage() {
  const [text, setText] = useState('');
  const [problems, setProblems] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [plan, setPlan] = useState(null);
  // A client token's grants differ by namespace, which the file names: known once a Plan has
  // parsed it; until then Run is offered and the API says why not if it refuses.
  const ns = plan ? plan.job.Namespace || 'default' : null;
  const may = allows(policy.value, 'submit', ns ? grantFor(ns) : undefined);
  const edit = (t) => {
    setText(t);
    setPlan(null);  // a plan is of the text it was made from
  };
  // The server parses the file (any format: Canonicalize reads it as a submit does), then
  // plans the job it found; nothing is written.
  const planIt = async () => {
    setBusy(true);
    setProblems([]);
    setError(null);
    setPlan(null);
    try {
      const job = await send('POST', '/v1/jobs/parse', { JobHCL: text, Canonicalize: true });
      const p = await send('POST', jobApi(job.ID, job.Namespace, '/plan'), { Job: job, Diff: true });
      setPlan({ job, ...planSummary(p) });
    } catch (e) {
      if (e.status === 400 || e.status === 409) setProblems(problemsOf(e.body));
      else setError(e);
    } finally {
      setBusy(false);
    }
  };
  const run = async () => {
    setBusy(true);
    setProblems([]);
    setError(null);
    try {
      // After a Plan: run what was planned, and only if the job is still as planned.
      const req = registerRequest(text, plan);
      const r = await send('POST', '/v1/jobs', req.body, req.type);
      location.hash = jobHref(r.JobID, r.Namespace);
    } catch (e) {
      if (e.status === 400 || e.status === 409) setProblems(problemsOf(e.body));
      else setError(e);
    } finally {
      setBusy(false);
    }
  };
  const load = (e) => {
    const f = e.currentTarget.files[0];
    if (f) f.text().then(edit);
  };
  return (
    <section>
      <h1>Run a job</h1>
      <p class="muted">Paste a job file (Nomad HCL, YAML or the JSON of <code>nomad job run -output</code>) or load one.</p>
      <textarea
        class="jobtext"
        data-testid="job-text"
        spellcheck={false}
        value={text}
        onInput={(e) => edit(e.currentTarget.value)}
        placeholder={'job "hello" {\n  type = "batch"\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config { command = "/bin/echo", args = ["hi"] }\n    }\n  }\n}'}
      />
      <div class="actions">
        <input type="file" accept=".hcl,.nomad,.yaml,.yml,.json" onChange={load} />
        {cluster.value && (
          <button data-testid="plan-job" disabled={busy || !text.trim()} onClick={planIt}>
            Plan
          </button>
        )}
        <button class="primary" data-testid="run-job" disabled={!may || busy || !text.trim()} onClick={run}>
          Run
        </button>
        {!may && (
          <span class="muted" data-testid="run-refused">
            {policy.value === 'client'
              ? `your token may not submit jobs in namespace "${ns}" (needs submit-job)`
              : 'your token may not submit jobs (needs submit)'}
          </span>
        )}
      </div>
      <Problem error={error} />
      {plan && <PlanView plan={plan} />}
      {problems.length > 0 && (
        <div class="problems" data-testid="problems">
          <p class="error">The job has {problems.length} problem{problems.length > 1 ? 's' : ''}:</p>
          <ul>
            {problems.map((p) => (
              <li>
                {p.line && (
                  <span class="line" data-testid="problem-line">
                    line {p.line}:{' '}
                  </span>
                )}
                <code>{p.path}</code> {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

// A plan as `nomad job plan` words it: the job's changes, each group's, what could not be placed.
function PlanView({ plan }) {
  return (
    <div class="plan" data-testid="plan">
      <h2>
        Plan for job <code>{plan.job.ID}</code>
        {plan.changes ? '' : ': nothing would be created or destroyed'}
      </h2>
      {plan.diff.length > 0 && (
        <ul class="diff" data-testid="plan-diff">
          {plan.diff.map((l) => (
            <li class="mono">{l}</li>
          ))}
        </ul>
      )}
      <table class="list">
        <tbody>
          {plan.groups.map((g) => (
            <tr data-group={g.name}>
              <td>Task Group "{g.name}"</td>
              <td data-testid="plan-changes">{g.changes}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {plan.failures.length === 0 ? (
        <p class="muted" data-testid="plan-placed">All tasks successfully allocated.</p>
      ) : (
        plan.failures.map((f) => (
          <div class="problems" data-testid="plan-failed">
            <p class="error">
              Task Group "{f.group}" (failed to place {f.failed} allocation{f.failed > 1 ? 's' : ''}):
            </p>
            <ul>
              {f.why.map((w) => (
                <li>{w}</li>
              ))}
            </ul>
          </div>
        ))
      )}
      <p class="muted">Job Modify Index: {plan.jobModifyIndex}</p>
    </div>
  );
}
