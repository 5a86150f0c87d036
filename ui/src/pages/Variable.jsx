// One Nomad Variable (docs/ui.md, "Variables"): its items, values hidden until asked for; an
// editor that writes them back only over the version it read (Nomad's check-and-set), and a
// delete likewise; the lock held over it, if any. With no path, the form for a new variable,
// written only if none exists at that path.
import { useEffect, useState } from 'preact/hooks';
import { send, get } from '../api.js';
import { formatTime } from '../status.js';
import { DEFAULT } from '../namespaces.js';
import { conflictText, itemsFromRows, pathProblem, rowsFromItems, varApi, varHref } from '../variables.js';
import { Problem } from '../components/Problem.jsx';

function ItemEditor({ rows, setRows }) {
  const set = (i, field, value) => {
    const next = rows.map((r, j) => (j === i ? { ...r, [field]: value } : r));
    // Typing into the last row opens another below it.
    if (i === next.length - 1 && (next[i].key || next[i].value)) next.push({ key: '', value: '' });
    setRows(next);
  };
  return (
    <table class="list" data-testid="item-editor">
      <thead>
        <tr>
          <th>Key</th>
          <th>Value</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr>
            <td>
              <input data-testid="item-key" value={r.key} onInput={(e) => set(i, 'key', e.currentTarget.value)} />
            </td>
            <td>
              <textarea data-testid="item-value" rows={1} class="itemvalue" value={r.value}
                onInput={(e) => set(i, 'value', e.currentTarget.value)} />
            </td>
            <td>
              {i < rows.length - 1 && (
                <button class="small" onClick={() => setRows(rows.filter((_, j) => j !== i))}>remove</button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// The save: a 409 says why in words (a lock, or a write in between), a 400 the agent's reason.
function useWrite() {
  const [problem, setProblem] = useState(null);
  const [error, setError] = useState(null);
  const run = async (fn, conflict = conflictText) => {
    setProblem(null);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      if (e.status === 409) setProblem(conflict(e.body));
      else setError(e);
      return undefined;
    }
  };
  return { problem, setProblem, error, run };
}

export function NewVariablePage() {
  const [path, setPath] = useState('');
  const [ns, setNs] = useState(DEFAULT);
  const [rows, setRows] = useState(rowsFromItems({}));
  const w = useWrite();
  const create = async () => {
    const bad = pathProblem(path);
    const { items, problem } = itemsFromRows(rows);
    if (bad || problem) return w.setProblem(bad ? 'Path: ' + bad : problem);
    const written = await w.run(
      () => send('PUT', varApi(path, ns, 0), { Namespace: ns, Path: path, Items: items }),
      (body) => (body?.ModifyIndex ? `A variable already exists at ${path} in namespace ${ns}: open it to edit it.` : conflictText(body)),
    );
    if (written) location.hash = varHref(path, ns);
  };
  return (
    <section>
      <h1>New variable</h1>
      <div class="actions">
        <label>
          Path <input data-testid="variable-path" class="mono" value={path} onInput={(e) => setPath(e.currentTarget.value)} />
        </label>
        <label>
          Namespace <input data-testid="variable-namespace" value={ns} onInput={(e) => setNs(e.currentTarget.value)} />
        </label>
      </div>
      <ItemEditor rows={rows} setRows={setRows} />
      {w.problem && <p class="error" data-testid="variable-problem">{w.problem}</p>}
      <Problem error={w.error} />
      <div class="actions">
        <button class="primary" data-testid="create-variable" onClick={create}>Create</button>
      </div>
    </section>
  );
}

export function VariablePage({ path, ns }) {
  const [v, setV] = useState(null);
  const [error, setError] = useState(null);
  const [shown, setShown] = useState(false);
  const [rows, setRows] = useState(null);  // editing when set
  const w = useWrite();
  const load = () => get(varApi(path, ns)).then((x) => { setV(x); setError(null); }, setError);
  useEffect(() => { load(); }, [path, ns]);
  if (error && !v) return <Problem error={error} />;
  if (!v) return <p class="muted">Loading…</p>;
  const save = async () => {
    const { items, problem } = itemsFromRows(rows);
    if (problem) return w.setProblem(problem);
    const written = await w.run(() =>
      send('PUT', varApi(path, ns, v.ModifyIndex), { Namespace: v.Namespace, Path: path, Items: items }),
    );
    if (written) {
      setV(written);
      setRows(null);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete the variable ${path}?`)) return;
    const done = await w.run(() => send('DELETE', varApi(path, ns, v.ModifyIndex)));
    if (done !== undefined) location.hash = '#/variables';
  };
  const keys = Object.keys(v.Items || {}).sort();
  return (
    <section>
      <h1>
        Variable <span class="mono" data-testid="variable-path">{v.Path}</span>{' '}
        {v.Lock && <span class="status pending" data-testid="variable-lock">locked</span>}
      </h1>
      <p class="muted">
        namespace {v.Namespace} · modify index <span data-testid="variable-index">{v.ModifyIndex}</span> · updated{' '}
        {formatTime(v.ModifyTime)}
        {v.Lock && ` · lock ${v.Lock.ID.slice(0, 8)}, TTL ${v.Lock.TTL}, delay ${v.Lock.LockDelay}`}
      </p>
      {rows ? (
        <>
          <ItemEditor rows={rows} setRows={setRows} />
          <div class="actions">
            <button class="primary" data-testid="save-variable" onClick={save}>Save</button>
            <button data-testid="cancel-edit" onClick={() => { setRows(null); w.setProblem(null); }}>Cancel</button>
          </div>
        </>
      ) : (
        <>
          <div class="actions">
            <button data-testid="show-values" onClick={() => setShown(!shown)}>{shown ? 'Hide values' : 'Show values'}</button>
            <button data-testid="edit-variable" onClick={() => setRows(rowsFromItems(v.Items))}>Edit</button>
            <button class="danger" data-testid="delete-variable" onClick={remove}>Delete</button>
          </div>
          <table class="list" data-testid="items">
            <thead>
              <tr>
                <th>Key</th>
                <th>Value</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr data-item={k}>
                  <td class="mono">{k}</td>
                  <td class="mono" data-testid="item-value">{shown ? <span class="itemtext">{v.Items[k]}</span> : '••••••••'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {w.problem && <p class="error" data-testid="variable-problem">{w.problem}</p>}
      <Problem error={w.error} />
    </section>
  );
}
