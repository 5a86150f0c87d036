// Namespaces in the UI (docs/ui.md, "Namespaces"): which one the jobs list shows, and the
// namespace that rides along in every job link and job request, as Nomad's `?namespace=`.
import { signal } from '@preact/signals';

export const ALL = '*';
export const DEFAULT = 'default';
const KEY = 'drover.namespace';

// The jobs list's namespace ("*": every one), kept for the tab like the token.
export const listNamespace = signal(globalThis.sessionStorage?.getItem(KEY) || ALL);

export function setListNamespace(ns) {
  listNamespace.value = ns;
  globalThis.sessionStorage?.setItem(KEY, ns);
}

// `path` with namespace=ns added to its query (an existing query is kept).
export function withNamespace(path, ns) {
  if (!ns) return path;
  return path + (path.includes('?') ? '&' : '?') + 'namespace=' + encodeURIComponent(ns);
}

// A job's API path: /v1/job/<id><suffix> in namespace ns.
export function jobApi(id, ns, suffix = '') {
  return withNamespace('/v1/job/' + encodeURIComponent(id) + suffix, ns || DEFAULT);
}

// A job page's link; the default namespace's links stay as they were (#/job/<id>).
export function jobHref(id, ns) {
  const href = '#/job/' + encodeURIComponent(id);
  return ns && ns !== DEFAULT ? href + '?namespace=' + encodeURIComponent(ns) : href;
}

// A hash route split into its path parts and its query: "#/job/x?namespace=y".
export function parseHash(hash) {
  const bare = hash.replace(/^#\/?/, '');
  const q = bare.indexOf('?');
  const path = q < 0 ? bare : bare.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : bare.slice(q + 1));
  return { parts: path.split('/'), query };
}

// The namespaces to offer: every one that has a job, the default one, and the one chosen
// (so a choice with no jobs left stays selectable), sorted.
export function namespaceChoices(jobs, chosen) {
  const set = new Set([DEFAULT]);
  for (const j of jobs || []) set.add(j.Namespace || DEFAULT);
  if (chosen && chosen !== ALL) set.add(chosen);
  return [...set].sort();
}

// The key that tells two jobs apart across namespaces (the same ID may be in two).
export function jobKey(ns, id) {
  return (ns || DEFAULT) + '\u0000' + id;
}
