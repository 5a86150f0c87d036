// What the pages compute from the API's JSON: alloc counts by state, a task's latest reason,
// what a token's policy may do, job documents' formats and parse problems, dispatch meta.

import { jobKey } from './namespaces.js';

// `unknown`: on a node that stopped heartbeating, within its group's disconnect.lost_after.
export const ALLOC_STATES = ['pending', 'running', 'complete', 'failed', 'lost', 'unknown'];

// {pending, running, complete, failed, lost, unknown} counts of a list of allocs (by ClientStatus);
// a state drover adds later is counted under its own name.
export function countByState(allocs) {
  const counts = Object.fromEntries(ALLOC_STATES.map((s) => [s, 0]));
  for (const a of allocs || []) {
    const s = a.ClientStatus || 'pending';
    counts[s] = (counts[s] || 0) + 1;
  }
  return counts;
}

// Allocs grouped by job: namespace and id (jobKey), as the same id may be in two namespaces.
export function allocsByJob(allocs) {
  const by = {};
  for (const a of allocs || []) (by[jobKey(a.Namespace, a.JobID)] ||= []).push(a);
  return by;
}

// Why a task is where it is: the last event with something to say (a failure's reason first).
export function taskReason(taskState) {
  if (!taskState || !Array.isArray(taskState.Events)) return '';
  for (let i = taskState.Events.length - 1; i >= 0; i--) {
    const e = taskState.Events[i];
    const text = e.DisplayMessage || e.DriverError || e.KillError || e.ValidationError || e.SetupError || e.Message;
    if (text && (e.FailsTask || e.Type === 'Driver Failure' || e.Type === 'Setup Failure' || i === taskState.Events.length - 1))
      return text;
  }
  return '';
}

// Allocs' failures for a list: [{alloc, task, reason}] of failed tasks.
export function failures(alloc) {
  const out = [];
  for (const [task, st] of Object.entries(alloc?.TaskStates || {}))
    if (st.Failed) out.push({ task, reason: taskReason(st) });
  return out;
}

const POLICIES = ['read', 'submit', 'operate', 'management'];

// What each action needs: a built-in policy, and for a client token Nomad's capability in the
// namespace (or `node:write`: the node policy). docs/security.md, "ACL policies".
const NEEDS = {
  read: ['read', 'read-job'],
  submit: ['submit', 'submit-job'],
  stop: ['submit', 'submit-job'],
  'alloc-stop': ['submit', 'alloc-lifecycle'],
  restart: ['submit', 'alloc-lifecycle'],
  dispatch: ['submit', 'dispatch-job'],
  force: ['submit', 'submit-job'],
  operate: ['operate', 'node:write'],
  drain: ['operate', 'node:write'],
  exec: ['operate', 'alloc-exec'],
  files: ['submit', 'read-fs'],
};

// Whether a token's policy allows an action; `policy` null means ACLs are off (all allowed).
// A client token's (`policy` 'client') is judged by its `grant` in the page's namespace; until
// that is known the action is offered, and the API says why not if it refuses.
export function allows(policy, action, grant) {
  if (policy === null || policy === undefined) return true;
  const [level, capability] = NEEDS[action] || ['management', null];
  if (policy === 'client') {
    if (!capability) return false;  // the management token's
    if (!grant) return true;
    if (capability === 'node:write') return grant.Node === 'write';
    return (grant.Capabilities || []).includes(capability);
  }
  return POLICIES.indexOf(policy) >= POLICIES.indexOf(level);
}

// The Content-Type a pasted job document is sent with: JSON, HCL or YAML by its first token.
export function jobFormat(text) {
  const t = (text || '').trimStart();
  if (t.startsWith('{')) return 'application/json';
  if (/^(#[^\n]*\n\s*)*(job|variable|locals)\s+("|{)/.test(t) || /^\s*job\s+"/m.test(t)) return 'application/hcl';
  return 'application/yaml';
}

// What Run sends. After a Plan (a server), Nomad's register request: the planned job with
// EnforceIndex and the plan's JobModifyIndex (`job run -check-index`), so a job someone
// changed between Plan and Run is refused (409, the server's words shown), and the file as
// its Submission, kept for the job page. Otherwise the file as it is.
export function registerRequest(text, plan) {
  if (!plan) return { body: text, type: jobFormat(text) };
  const body = { Job: plan.job, EnforceIndex: true, JobModifyIndex: plan.jobModifyIndex };
  const format = jobFormat(text);
  if (format === 'application/hcl') body.Submission = { Source: text, Format: 'hcl2', Variables: '', VariableFlags: {} };
  return { body: JSON.stringify(body), type: 'application/json' };
}

// What the job page's Definition shows: the submitted HCL when the job was run from HCL
// (Nomad's /v1/job/:id/submission), the job's JSON otherwise.
export function definitionOf(job, submission) {
  if (submission && submission.Format === 'hcl2' && typeof submission.Source === 'string')
    return { format: 'HCL', text: submission.Source };
  return { format: 'JSON', text: JSON.stringify(job, null, 2) };
}

// The problems of an API error reply, as [{path, message, line, column}]: the `problems` list
// when there is one, else the one error. An HCL position ("job.hcl:3:5", "at line 3, column 5")
// gives the line.
export function problemsOf(body) {
  const list = Array.isArray(body?.problems) && body.problems.length ? body.problems : [{ path: '', message: body?.error || 'request failed' }];
  return list.map((p) => {
    const text = (p.path || '') + ' ' + (p.message || '');
    const m = /(?:^|[\s(])(?:[\w./-]+:)?(\d+):(\d+)(?::|\b)/.exec(text) || /\bline (\d+)(?:, column (\d+))?/.exec(text);
    return { path: p.path || '', message: p.message || '', line: m ? Number(m[1]) : null, column: m && m[2] ? Number(m[2]) : null };
  });
}

// A nanosecond timestamp as local time.
export function formatTime(ns) {
  if (!ns) return '';
  return new Date(Number(ns) / 1e6).toLocaleString();
}

// A node's Status as a status badge's class: ready reads as running, down as failed, and
// disconnected or initializing as pending (docs/cluster.md, "Down nodes").
export function nodeStatusClass(status) {
  if (status === 'ready') return 'running';
  if (status === 'down') return 'failed';
  return 'pending';
}

// A node whose agent is gone: the server keeps it, down or disconnected, until node GC.
export function nodeIsDown(node) {
  return node?.Status === 'down' || node?.Status === 'disconnected';
}

export function shortId(id) {
  return (id || '').slice(0, 8);
}

// A dispatch form's meta text, one `key=value` a line (blank lines skipped), as
// {meta, problems}; a line without '=' or a key given twice is a problem naming its line.
export function parseMeta(text) {
  const meta = {};
  const problems = [];
  (text || '').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const eq = line.indexOf('=');
    if (eq <= 0) return problems.push(`meta line ${i + 1}: "${line}" is not key=value`);
    const key = line.slice(0, eq).trim();
    if (key in meta) return problems.push(`meta line ${i + 1}: "${key}" is given twice`);
    meta[key] = line.slice(eq + 1).trim();
  });
  return { meta, problems };
}

// Text as base64 of its UTF-8 bytes (a dispatch Payload).
export function base64Utf8(text) {
  let bin = '';
  for (const b of new TextEncoder().encode(text || '')) bin += String.fromCharCode(b);
  return btoa(bin);
}

// Go's duration text ("1h", "30m", "1h30m", "90s", "250ms") as nanoseconds, the unit of
// Nomad's DrainSpec.Deadline; null when it is not one.
export function parseDuration(text) {
  const t = (text || '').trim();
  if (!t) return null;
  const units = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m; (m = re.exec(t)); end = re.lastIndex) total += parseFloat(m[1]) * units[m[2]];
  return end === t.length && end > 0 ? Math.round(total) : null;
}

// One line per change in Nomad's job diff (GET /v1/job/:id/versions?diffs=true), named by
// where it is: "Priority: 50 → 70", "group g: Count: 2 → 3", "task g/t: + Env".
export function diffSummary(diff) {
  const out = [];
  const mark = { Added: '+ ', Deleted: '- ', Edited: '' };
  const walk = (d, where) => {
    const at = where ? where + ': ' : '';
    for (const f of d?.Fields || []) {
      if (f.Type === 'Added') out.push(`${at}+ ${f.Name}: ${f.New}`);
      else if (f.Type === 'Deleted') out.push(`${at}- ${f.Name}: ${f.Old}`);
      else out.push(`${at}${f.Name}: ${f.Old} → ${f.New}`);
    }
    for (const o of d?.Objects || []) {
      if (o.Type === 'Edited') walk(o, (where ? where + ' ' : '') + o.Name);
      else out.push(`${at}${mark[o.Type] || ''}${o.Name}`);
    }
  };
  if (!diff || diff.Type === 'None') return out;
  walk(diff, '');
  for (const g of diff.TaskGroups || []) {
    if (g.Type === 'None') continue;
    if (g.Type !== 'Edited') {
      out.push(`${mark[g.Type]}group ${g.Name}`);
      continue;
    }
    walk(g, 'group ' + g.Name);
    for (const t of g.Tasks || []) {
      if (t.Type === 'None') continue;
      if (t.Type !== 'Edited') out.push(`${mark[t.Type]}task ${g.Name}/${t.Name}`);
      else walk(t, `task ${g.Name}/${t.Name}`);
    }
  }
  return out;
}

// What `job plan` says, as the Submit page shows it (the CLI's `drover job plan` prints the
// same): each group's changes as Nomad words them, the groups that could not be placed and
// why, the job's diff as lines, and whether anything would be created or destroyed.
const PLAN_WORDS = [
  ['Place', 'create'],
  ['DestructiveUpdate', 'create/destroy update'],
  ['InPlaceUpdate', 'in-place update'],
  ['Migrate', 'migrate'],
  ['Canary', 'canary'],
  ['Stop', 'destroy'],
  ['Ignore', 'ignore'],
];
export function planSummary(plan) {
  const updates = plan?.Annotations?.DesiredTGUpdates || {};
  const groups = Object.entries(updates).map(([name, u]) => ({
    name,
    changes: PLAN_WORDS.filter(([k]) => u[k] > 0).map(([k, word]) => `${u[k]} ${word}`).join(', ') || 'no change',
  }));
  const changes = Object.values(updates).some((u) => ['Place', 'Stop', 'DestructiveUpdate', 'Canary', 'Migrate'].some((k) => u[k] > 0));
  const failures = Object.entries(plan?.FailedTGAllocs || {}).map(([group, m]) => {
    const n = Math.max(1, (m.CoalescedFailures || 0) + 1);
    const why = [];
    if (m.NodesEvaluated === 0) why.push('No nodes were eligible for evaluation');
    for (const [dim, k] of Object.entries(m.DimensionExhausted || {})) why.push(`Dimension "${dim}" exhausted on ${k} nodes`);
    for (const [c, k] of Object.entries(m.ConstraintFiltered || {})) why.push(`Constraint "${c}": ${k} nodes excluded by filter`);
    return { group, failed: n, why };
  });
  return { groups, failures, diff: diffSummary(plan?.Diff), changes, jobModifyIndex: Math.max(0, plan?.JobModifyIndex || 0) };
}
