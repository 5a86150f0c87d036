// The exec websocket's client side (docs/nomad-compat.md, "alloc exec"): its URL, Nomad's
// JSON messages (base64 bytes both ways) and the token in the first message, since a browser
// cannot set headers on a websocket. No DOM here, so the unit tests drive it alone.

// ws: or wss: on this page's own host, with the token to come as the first message.
export function execUrl(loc, allocId, task, command, tty = true) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ task, command: JSON.stringify(command), tty: String(tty), ws_handshake: 'true' });
  return `${scheme}//${loc.host}/v1/client/allocation/${encodeURIComponent(allocId)}/exec?${q}`;
}

// The same session running one of the task's named actions (Nomad's `job action`): the agent
// looks its command up in the alloc's job.
export function actionUrl(loc, jobId, allocId, task, action, tty = true) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ action, allocID: allocId, task, tty: String(tty), ws_handshake: 'true' });
  return `${scheme}//${loc.host}/v1/job/${encodeURIComponent(jobId)}/action?${q}`;
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export const handshake = (token) => JSON.stringify({ version: 1, auth_token: token || '' });
// Typed text as UTF-8 bytes.
export const stdinMessage = (text) => JSON.stringify({ stdin: { data: toBase64(new TextEncoder().encode(text)) } });
export const sizeMessage = (rows, cols) => JSON.stringify({ tty_size: { height: rows, width: cols } });

// One message from the agent: {output: Uint8Array} for stdout/stderr, {exitCode: N} at the
// end, {} for anything else.
export function readMessage(text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch {
    return {};
  }
  const out = m.stdout || m.stderr;
  if (out && typeof out.data === 'string') return { output: fromBase64(out.data) };
  if (m.exited) return { exitCode: m.result?.exit_code ?? 0 };
  return {};
}

// Whether a task can be exec'd into: its driver says so (Capabilities.Exec) on this node.
export function driverCanExec(node, driver) {
  return !!node?.Drivers?.[driver]?.Capabilities?.Exec;
}

// The names of each task's actions, from the alloc's job (the version the alloc runs).
export function taskActions(alloc) {
  const out = {};
  for (const g of alloc?.Job?.TaskGroups || [])
    if (g.Name === alloc.TaskGroup) for (const t of g.Tasks || []) out[t.Name] = (t.Actions || []).map((a) => a.Name);
  return out;
}

// The driver of each task of an alloc, from the alloc's job.
export function taskDrivers(alloc) {
  const out = {};
  for (const g of alloc?.Job?.TaskGroups || [])
    if (g.Name === alloc.TaskGroup) for (const t of g.Tasks || []) out[t.Name] = t.Driver;
  return out;
}
