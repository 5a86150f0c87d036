// Run a job: paste or load an HCL, YAML or JSON job file; the agent checks it and its problems
// are listed with their field path (and line for HCL); a valid job runs and its page opens.
import { useState } from 'preact/hooks';
import { policy, send } from '../api.js';
import { allows, jobFormat, problemsOf } from '../status.js';
import { Problem } from '../components/Problem.jsx';
import { jobHref } from '../namespaces.js';

export function SubmitPage() {
  const [text, setText] = useState('');
  const [problems, setProblems] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const may = allows(policy.value, 'submit');
  const run = async () => {
    setBusy(true);
    setProblems([]);
    setError(null);
    try {
      const r = await send('POST', '/v1/jobs', text, jobFormat(text));
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
    if (f) f.text().then(setText);
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
        onInput={(e) => setText(e.currentTarget.value)}
        placeholder={'job "hello" {\n  type = "batch"\n  group "g" {\n    task "t" {\n      driver = "raw_exec"\n      config { command = "/bin/echo", args = ["hi"] }\n    }\n  }\n}'}
      />
      <div class="actions">
        <input type="file" accept=".hcl,.nomad,.yaml,.yml,.json" onChange={load} />
        <button class="primary" data-testid="run-job" disabled={!may || busy || !text.trim()} onClick={run}>
          Run
        </button>
        {!may && <span class="muted">your token may not submit jobs (needs submit)</span>}
      </div>
      <Problem error={error} />
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
