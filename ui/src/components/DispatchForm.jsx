// Dispatch a parameterized job: a payload (text, sent base64) when the job takes one, and its
// meta as key=value lines, the required and optional keys shown; the agent checks both and
// its problems are shown as they come. A dispatched child opens its page.
import { useState } from 'preact/hooks';
import { send } from '../api.js';
import { base64Utf8, parseMeta } from '../status.js';
import { Problem } from './Problem.jsx';
import { jobApi, jobHref } from '../namespaces.js';

export function DispatchForm({ job, allowed }) {
  const p = job.ParameterizedJob || {};
  const [payload, setPayload] = useState('');
  const [metaText, setMetaText] = useState((p.MetaRequired || []).map((k) => k + '=').join('\n'));
  const [problems, setProblems] = useState([]);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const { meta, problems: bad } = parseMeta(metaText);
    setProblems(bad);
    if (bad.length) return;
    const body = { Meta: meta };
    if (payload) body.Payload = base64Utf8(payload);
    try {
      const r = await send('POST', jobApi(job.ID, job.Namespace, '/dispatch'), body);
      location.hash = jobHref(r.DispatchedJobID, job.Namespace);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="dispatch" data-testid="dispatch-form" onSubmit={submit}>
      <label>Payload ({p.Payload || 'optional'})</label>
      <textarea data-testid="dispatch-payload" disabled={p.Payload === 'forbidden'} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
      <label>Meta</label>
      <div>
        <textarea data-testid="dispatch-meta" value={metaText} onInput={(e) => setMetaText(e.currentTarget.value)} />
        <div class="muted">
          one key=value a line · required: {(p.MetaRequired || []).join(', ') || 'none'} · optional:{' '}
          {(p.MetaOptional || []).join(', ') || 'none'}
        </div>
      </div>
      <span />
      <div>
        <button class="primary" data-testid="dispatch" disabled={!allowed} title={allowed ? '' : 'your token may not dispatch (needs submit)'}>
          Dispatch
        </button>
        {problems.map((m) => (
          <p class="error">{m}</p>
        ))}
        <Problem error={error} />
      </div>
    </form>
  );
}
