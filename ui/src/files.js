// The alloc files browser's paths and requests (/v1/client/fs/ls and readat): paths are
// relative to the alloc dir, "/" being the alloc dir itself.

// "/t/local" and "app.conf" make "/t/local/app.conf".
export function joinPath(dir, name) {
  return (dir.endsWith('/') ? dir : dir + '/') + name;
}

// The dir a path is in ("/" for "/" itself).
export function parentPath(path) {
  const parts = path.split('/').filter(Boolean);
  parts.pop();
  return '/' + parts.join('/');
}

// Each step of a path to click on: [{name: 'alloc dir', path: '/'}, {name: 't', path: '/t'}, ...].
export function crumbs(path) {
  const out = [{ name: 'alloc dir', path: '/' }];
  let at = '';
  for (const p of path.split('/').filter(Boolean)) {
    at += '/' + p;
    out.push({ name: p, path: at });
  }
  return out;
}

// Dirs first, then files, each by name; a link is neither and sorts with the files.
export function sortEntries(entries) {
  return [...(entries || [])].sort((a, b) => (a.IsDir !== b.IsDir ? (a.IsDir ? -1 : 1) : a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

// What a listing's ModTime (RFC 3339) reads as: to the second, in UTC.
export function shownTime(rfc3339) {
  return (rfc3339 || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function lsUrl(allocId, path) {
  return `/v1/client/fs/ls/${encodeURIComponent(allocId)}?path=${encodeURIComponent(path)}`;
}

export function readUrl(allocId, path, limit) {
  return `/v1/client/fs/readat/${encodeURIComponent(allocId)}?path=${encodeURIComponent(path)}&offset=0&limit=${limit}`;
}
