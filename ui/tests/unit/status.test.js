// What the pages compute: alloc counts, failure reasons, token permissions, job formats,
// parse problems and dispatch meta.
import { describe, expect, it } from 'vitest';
import { allocsByJob, allows, base64Utf8, countByState, definitionOf, diffSummary, failures, jobFormat, nodeIsDown, nodeStatusClass, parseDuration, parseMeta, planSummary, problemsOf, registerRequest, taskReason } from '../../src/status.js';
import { LogBuffer } from '../../src/logbuffer.js';

describe('countByState', () => {
  it('counts allocs by client status, every known state present', () => {
    const c = countByState([{ ClientStatus: 'running' }, { ClientStatus: 'running' }, { ClientStatus: 'failed' }]);
    expect(c).toEqual({ pending: 0, running: 2, complete: 0, failed: 1, lost: 0, unknown: 0 });
  });
  it('counts a state it does not know under its own name', () => {
    expect(countByState([{ ClientStatus: 'reconnecting' }]).reconnecting).toBe(1);
  });
  it('groups allocs by job', () => {
    const by = allocsByJob([{ JobID: 'a' }, { JobID: 'b' }, { JobID: 'a' }]);
    expect(Object.values(by).map((l) => l.length)).toEqual([2, 1]);
  });
});

describe('failure reasons', () => {
  const st = {
    Failed: true,
    Events: [
      { Type: 'Received', Message: 'Task received by client' },
      { Type: 'Driver Failure', DisplayMessage: 'exec: /no/such: no such file', FailsTask: true },
      { Type: 'Not Restarting', DisplayMessage: 'Exceeded allowed attempts' },
    ],
  };
  it('a failed task shows the last event with something to say', () => {
    expect(taskReason(st)).toBe('Exceeded allowed attempts');
    expect(failures({ TaskStates: { t: st, ok: { Failed: false, Events: [] } } })).toEqual([{ task: 't', reason: 'Exceeded allowed attempts' }]);
  });
  it('no events, no reason', () => {
    expect(taskReason({})).toBe('');
  });
});

describe('allows', () => {
  it('ACLs off allows everything', () => {
    expect(allows(null, 'stop')).toBe(true);
  });
  it('a read token may not stop or submit; submit may; operate includes submit', () => {
    expect(allows('read', 'stop')).toBe(false);
    expect(allows('read', 'submit')).toBe(false);
    expect(allows('read', 'read')).toBe(true);
    expect(allows('submit', 'stop')).toBe(true);
    expect(allows('read', 'files')).toBe(false); // an alloc's files need submit, as on the agent
    expect(allows('submit', 'files')).toBe(true);
    expect(allows('operate', 'submit')).toBe(true);
    expect(allows('submit', 'operate')).toBe(false);
    expect(allows('submit', 'alloc-stop')).toBe(true);
  });
  it("a client token is judged by its grant in the page's namespace", () => {
    const reader = { Capabilities: ['list-jobs', 'read-job', 'read-logs'], Node: 'read' };
    const writer = { Capabilities: ['read-job', 'submit-job', 'alloc-lifecycle', 'dispatch-job', 'read-fs'], Node: 'write' };
    expect(allows('client', 'stop', reader)).toBe(false);
    expect(allows('client', 'alloc-stop', reader)).toBe(false);
    expect(allows('client', 'files', reader)).toBe(false);
    expect(allows('client', 'drain', reader)).toBe(false);
    expect(allows('client', 'read', reader)).toBe(true);
    expect(allows('client', 'stop', writer)).toBe(true);
    expect(allows('client', 'alloc-stop', writer)).toBe(true);
    expect(allows('client', 'dispatch', writer)).toBe(true);
    expect(allows('client', 'exec', writer)).toBe(false); // alloc-exec not granted
    expect(allows('client', 'drain', writer)).toBe(true);
    // Not known yet: offered (the API refuses with its reason); never the management token's.
    expect(allows('client', 'stop', undefined)).toBe(true);
    expect(allows('client', 'tokens', writer)).toBe(false);
  });
});

describe('jobFormat', () => {
  it('tells JSON, HCL and YAML apart', () => {
    expect(jobFormat('  {"Job": {}}')).toBe('application/json');
    expect(jobFormat('job "x" {\n}')).toBe('application/hcl');
    expect(jobFormat('# a comment\njob "x" {}')).toBe('application/hcl');
    expect(jobFormat('job: x\ngroups: []')).toBe('application/yaml');
  });
});

describe('problemsOf', () => {
  it('lists every problem with its path, and the line of an HCL one', () => {
    const p = problemsOf({
      error: 'job is invalid (2 problems)',
      problems: [
        { path: 'groups[0].tasks[0].driver', message: 'required' },
        { path: 'job.hcl:3:5', message: 'unexpected token' },
      ],
    });
    expect(p).toEqual([
      { path: 'groups[0].tasks[0].driver', message: 'required', line: null, column: null },
      { path: 'job.hcl:3:5', message: 'unexpected token', line: 3, column: 5 },
    ]);
  });
  it('reads the line of a "malformed HCL at line N, column M" message', () => {
    const [p] = problemsOf({ problems: [{ path: '', message: "malformed HCL at line 6, column 19: expected a value after '='" }] });
    expect([p.line, p.column]).toEqual([6, 19]);
  });
  it('an error without a list is one problem', () => {
    expect(problemsOf({ error: 'bad' })).toEqual([{ path: '', message: 'bad', line: null, column: null }]);
  });
});

describe('LogBuffer', () => {
  it('keeps the newest text within its limit', () => {
    const b = new LogBuffer(10);
    b.push('abcdef');
    b.push('ghijkl');
    expect(b.text()).toBe('cdefghijkl');
  });
});

describe('parseMeta', () => {
  it('reads key=value lines, skipping blank ones, keeping = in values', () => {
    expect(parseMeta('who=world\n\n  url = http://x/?a=b \n')).toEqual({ meta: { who: 'world', url: 'http://x/?a=b' }, problems: [] });
  });
  it('names the line of a line without a key or given twice', () => {
    expect(parseMeta('a=1\nnonsense\na=2').problems).toEqual(['meta line 2: "nonsense" is not key=value', 'meta line 3: "a" is given twice']);
  });
});

describe('base64Utf8', () => {
  it('encodes the UTF-8 bytes', () => {
    expect(base64Utf8('ü')).toBe('w7w=');
    expect(base64Utf8('')).toBe('');
  });
});

describe('parseDuration', () => {
  it("reads Go's duration text as nanoseconds, as DrainSpec.Deadline wants", () => {
    expect(parseDuration('1h')).toBe(3600e9);
    expect(parseDuration('1h30m')).toBe(5400e9);
    expect(parseDuration('250ms')).toBe(250e6);
    expect(parseDuration(' 90s ')).toBe(90e9);
  });
  it('refuses what is not one', () => {
    for (const t of ['', 'soon', '10', '1h x', '-5m']) expect(parseDuration(t)).toBeNull();
  });
  it('a drain needs operate', () => {
    expect(allows('submit', 'drain')).toBe(false);
    expect(allows('operate', 'drain')).toBe(true);
  });
});

describe('diffSummary', () => {
  it("names each change of Nomad's job diff by where it is", () => {
    const diff = {
      Type: 'Edited',
      Fields: [{ Type: 'Edited', Name: 'Priority', Old: '50', New: '70' }],
      TaskGroups: [
        {
          Type: 'Edited',
          Name: 'g',
          Fields: [{ Type: 'Edited', Name: 'Count', Old: '2', New: '3' }],
          Tasks: [
            { Type: 'Edited', Name: 't', Objects: [{ Type: 'Edited', Name: 'Config', Fields: [{ Type: 'Edited', Name: 'command', Old: '/bin/true', New: '/bin/false' }] }] },
            { Type: 'Added', Name: 'side' },
          ],
        },
        { Type: 'None', Name: 'quiet' },
      ],
    };
    expect(diffSummary(diff)).toEqual([
      'Priority: 50 → 70',
      'group g: Count: 2 → 3',
      'task g/t Config: command: /bin/true → /bin/false',
      '+ task g/side',
    ]);
  });
  it('an unchanged or missing diff says nothing', () => {
    expect(diffSummary({ Type: 'None' })).toEqual([]);
    expect(diffSummary(null)).toEqual([]);
  });
});

describe('planSummary', () => {
  it("words each group's changes as nomad job plan does and says whether anything is created or destroyed", () => {
    const s = planSummary({
      Annotations: { DesiredTGUpdates: { web: { Place: 2, Ignore: 1 }, db: { Ignore: 3 } } },
      JobModifyIndex: 7,
      Diff: { Type: 'Edited', Fields: [], Objects: [], TaskGroups: [{ Name: 'web', Type: 'Edited', Fields: [{ Type: 'Edited', Name: 'Count', Old: '1', New: '3' }] }] },
    });
    expect(s.groups).toEqual([{ name: 'web', changes: '2 create, 1 ignore' }, { name: 'db', changes: '3 ignore' }]);
    expect(s.changes).toBe(true);
    expect(s.diff).toEqual(['group web: Count: 1 → 3']);
    expect(s.jobModifyIndex).toBe(7);
  });
  it('an in-place update alone creates and destroys nothing', () => {
    expect(planSummary({ Annotations: { DesiredTGUpdates: { g: { InPlaceUpdate: 2 } } } }).changes).toBe(false);
  });
  it('says why a group could not be placed', () => {
    const s = planSummary({ FailedTGAllocs: { g: { NodesEvaluated: 3, CoalescedFailures: 1, DimensionExhausted: { memory: 3 }, ConstraintFiltered: { '${attr.kernel.name} = windows': 2 } } } });
    expect(s.failures).toEqual([{ group: 'g', failed: 2, why: ['Dimension "memory" exhausted on 3 nodes', 'Constraint "${attr.kernel.name} = windows": 2 nodes excluded by filter'] }]);
  });
});

describe('planSummary of a new job', () => {
  it('shows Job Modify Index 0, as the CLI does, where the server says -1 (no job yet)', () => {
    expect(planSummary({ JobModifyIndex: -1 }).jobModifyIndex).toBe(0);
  });
});

describe('run after a plan', () => {
  const hcl = 'job "web" {\n  group "g" {}\n}\n';
  it('without a plan, Run sends the file as it is', () => {
    expect(registerRequest(hcl, null)).toEqual({ body: hcl, type: 'application/hcl' });
  });
  it("after a plan, Run sends the planned job with the plan's JobModifyIndex enforced and the HCL as its submission", () => {
    const req = registerRequest(hcl, { job: { ID: 'web' }, jobModifyIndex: 42 });
    expect(req.type).toBe('application/json');
    const body = JSON.parse(req.body);
    expect(body.Job).toEqual({ ID: 'web' });
    expect(body.EnforceIndex).toBe(true);
    expect(body.JobModifyIndex).toBe(42);
    expect(body.Submission).toEqual({ Source: hcl, Format: 'hcl2', Variables: '', VariableFlags: {} });
  });
  it('a new job planned has index 0: Run registers it only if it still does not exist', () => {
    expect(JSON.parse(registerRequest('job:\n  id: x\n', { job: { ID: 'x' }, jobModifyIndex: 0 }).body)).toEqual({
      Job: { ID: 'x' },
      EnforceIndex: true,
      JobModifyIndex: 0,
    });
  });
});

describe('the job definition', () => {
  const job = { ID: 'web', Type: 'service' };
  it('shows the submitted HCL when there is one', () => {
    expect(definitionOf(job, { Source: 'job "web" {}', Format: 'hcl2' })).toEqual({ format: 'HCL', text: 'job "web" {}' });
  });
  it('shows the JSON otherwise', () => {
    expect(definitionOf(job, null)).toEqual({ format: 'JSON', text: JSON.stringify(job, null, 2) });
    expect(definitionOf(job, { Source: '{}', Format: 'json' }).format).toBe('JSON');
  });
});

describe('node status', () => {
  it('reads ready as running, down as failed and the rest as pending', () => {
    expect(nodeStatusClass('ready')).toBe('running');
    expect(nodeStatusClass('down')).toBe('failed');
    expect(nodeStatusClass('disconnected')).toBe('pending');
    expect(nodeStatusClass('initializing')).toBe('pending');
  });
  it('knows a node whose agent is gone', () => {
    expect(nodeIsDown({ Status: 'down' })).toBe(true);
    expect(nodeIsDown({ Status: 'disconnected' })).toBe(true);
    expect(nodeIsDown({ Status: 'ready' })).toBe(false);
    expect(nodeIsDown(null)).toBe(false);
  });
});
