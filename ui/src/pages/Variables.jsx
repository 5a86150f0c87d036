// Nomad Variables (docs/ui.md, "Variables"): every variable the token may list, in every
// namespace, filtered by path; a lock held over one shows as a badge. Items are never listed.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { formatTime } from '../status.js';
import { filterVariables, varHref } from '../variables.js';
import { Problem } from '../components/Problem.jsx';

export function VariablesPage() {
  const [list, setList] = useState(null);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState(null);
  useEffect(() => {
    get('/v1/vars?namespace=*').then((l) => setList(l || []), setError);
  }, []);
  const shown = filterVariables(list, filter);
  return (
    <section>
      <h1>Variables</h1>
      <div class="actions">
        <a href="#/new-variable">
          <button class="primary" data-testid="new-variable">New variable</button>
        </a>
        <input class="filter" data-testid="variable-filter" placeholder="filter by path" value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)} />
      </div>
      <Problem error={error} />
      {list && list.length === 0 && <p class="muted">No variables yet.</p>}
      {shown.length > 0 && (
        <table class="list" data-testid="variables">
          <thead>
            <tr>
              <th>Path</th>
              <th>Namespace</th>
              <th>Last updated</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {shown.map((v) => (
              <tr data-variable={v.Path} data-namespace={v.Namespace}>
                <td class="mono">
                  <a href={varHref(v.Path, v.Namespace)}>{v.Path}</a>
                </td>
                <td>{v.Namespace}</td>
                <td class="muted">{formatTime(v.ModifyTime)}</td>
                <td>{v.Lock && <span class="status pending" data-testid="variable-locked">locked</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
