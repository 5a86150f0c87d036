// The node's metadata (docs/nomad-compat.md, "Node metadata"): every key with where it comes
// from (the agent's config, or `node meta apply`), and a form to set or unset a key (operate
// policy), which takes effect at once and outlives a restart. On a server the request goes to
// the node through it (`?node_id=`).
import { useState } from 'preact/hooks';
import { get, grantFor, policy, send } from '../api.js';
import { useLive } from '../live.js';
import { allows } from '../status.js';
import { Problem } from './Problem.jsx';

export function NodeMeta({ nodeId, cluster }) {
  const [meta, setMeta] = useState(null);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  const path = '/v1/client/metadata' + (cluster ? '?node_id=' + encodeURIComponent(nodeId) : '');
  const load = () => get(path).then(setMeta, setError);
  useLive(load, (e) => e.Topic === 'node' || e.Topic === 'Node', [nodeId]);
  const may = allows(policy.value, 'operate', grantFor('default'));  // the node policy
  const apply = async (changes) => {
    setError(null);
    try {
      setMeta(await send('PUT', path, { Meta: changes }));
    } catch (e) {
      setError(e);
    }
  };
  if (!meta) return error ? <Problem error={error} /> : null;
  const all = meta.Meta || {};
  const dynamic = meta.Dynamic || {};
  return (
    <div data-testid="node-meta">
      <h2>Metadata</h2>
      <table class="list attrs">
        <tbody>
          {Object.keys(all)
            .sort()
            .map((k) => (
              <tr data-meta={k}>
                <td class="mono">{k}</td>
                <td data-testid="meta-value">{all[k]}</td>
                <td class="muted">{k in dynamic ? 'applied' : 'config'}</td>
                <td>
                  <button class="small" data-testid="meta-unset" disabled={!may} onClick={() => apply({ [k]: null })}>
                    unset
                  </button>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      <div class="actions">
        <input data-testid="meta-key" placeholder="key" size="16" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        <input data-testid="meta-new-value" placeholder="value" size="24" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button data-testid="meta-set" disabled={!may || !key} onClick={() => apply({ [key]: value })} title={may ? '' : 'your token may not change the node (needs operate)'}>
          Set
        </button>
      </div>
      <Problem error={error} />
    </div>
  );
}
