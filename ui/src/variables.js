// Nomad Variables in the UI (docs/ui.md, "Variables"): their API paths and page links, Nomad's
// path rules checked before a write, and the editor's rows turned into Items and back.
import { DEFAULT, withNamespace } from './namespaces.js';

// /v1/var/<path> with each segment escaped on its own ('/' stays a separator), in `ns`, with
// Nomad's check-and-set index when one is given.
export function varApi(path, ns, cas) {
  const url = withNamespace('/v1/var/' + path.split('/').map(encodeURIComponent).join('/'), ns || DEFAULT);
  return cas === undefined || cas === null ? url : url + '&cas=' + cas;
}

// A variable page's link; the default namespace's stay bare (#/variable/<path>).
export function varHref(path, ns) {
  const href = '#/variable/' + path.split('/').map(encodeURIComponent).join('/');
  return ns && ns !== DEFAULT ? href + '?namespace=' + encodeURIComponent(ns) : href;
}

// Why Nomad would refuse `path` (structs.validatePath, docs/variables.md), or null.
export function pathProblem(path) {
  if (!path) return 'a variable needs a path';
  if (path.length > 128) return `the path is ${path.length} characters long; at most 128 are allowed`;
  if (!/^[a-zA-Z0-9\-_~/]+$/.test(path)) return 'a path holds only letters, digits and - _ ~ /';
  const parts = path.split('/');
  if (parts[0] !== 'nomad') return null;
  if (parts.length === 1) return '"nomad" is a reserved top-level directory: write under nomad/jobs or nomad/job-templates';
  if (parts[1] === 'jobs') return null;
  if (parts[1] === 'job-templates' && parts.length === 3) return null;
  if (parts[1] === 'job-templates') return 'under nomad/job-templates, a variable is nomad/job-templates/<name>';
  return 'under "nomad", only nomad/jobs and nomad/job-templates and below are valid';
}

// The editor's rows ([{key, value}]) as Items, or the problem with them: a row with a value
// and no key, a key twice, no item at all. Rows left wholly empty are skipped.
export function itemsFromRows(rows) {
  const items = {};
  for (const [i, r] of rows.entries()) {
    const key = (r.key || '').trim();
    if (!key && !r.value) continue;
    if (!key) return { problem: `item ${i + 1} has a value but no key` };
    if (Object.prototype.hasOwnProperty.call(items, key)) return { problem: `the key "${key}" is given twice` };
    items[key] = r.value || '';
  }
  if (Object.keys(items).length === 0) return { problem: 'a variable needs at least one item' };
  return { items };
}

// A variable's Items as the editor's rows, sorted by key, with one empty row to add to.
export function rowsFromItems(items) {
  const rows = Object.keys(items || {})
    .sort()
    .map((key) => ({ key, value: items[key] }));
  rows.push({ key: '', value: '' });
  return rows;
}

// The variables of `list` whose path contains `filter` (any case), sorted by namespace then
// path.
export function filterVariables(list, filter) {
  const f = (filter || '').toLowerCase();
  return (list || [])
    .filter((v) => !f || v.Path.toLowerCase().includes(f))
    .sort((a, b) => (a.Namespace || '').localeCompare(b.Namespace || '') || a.Path.localeCompare(b.Path));
}

// What a 409 on a write says: a lock held over the variable, or another write since it was
// read (Nomad's check-and-set), with the index it has now.
export function conflictText(body) {
  const error = (body && body.error) || '';
  if (error && !error.startsWith('cas conflict'))
    return `The variable is locked (${error}): only its lock's holder may change it until the lock is released or expires.`;
  return `Someone changed this variable since it was read (it is at index ${body?.ModifyIndex ?? '?'} now): reload it and edit again.`;
}
