// Starts the real `drover agent -dev` for the browser tests: its own data dir, a free loopback
// port, its own cgroup parent; stops it (and its tasks) at the end. For cluster mode, one etcd
// member (Debian's etcd-server) and `drover server` processes the same way.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function until(what, fn, timeoutMs = 30000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The agent's parent cgroup in every hierarchy (v1: one per controller; v2: one), with
// whatever a task left in it: tasks outlive their agent by design, a test run leaves none.
async function removeCgroupParent(parent) {
  const root = '/sys/fs/cgroup';
  const v2 = existsSync(join(root, 'cgroup.controllers'));
  const dirs = v2 ? [join(root, parent)] : readdirSync(root).map((c) => join(root, c, parent));
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const child of readdirSync(dir, { withFileTypes: true })) {
      if (!child.isDirectory()) continue;
      const path = join(dir, child.name);
      for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
      // A killed process leaves its cgroup a moment later.
      await until(`${path} to be removed`, () => {
        try {
          rmdirSync(path);
          return true;
        } catch (e) {
          if (e.code === 'ENOENT') return true;
          if (e.code !== 'EBUSY') throw e;
          return false;
        }
      }, 5000, 10).catch(() => {});
    }
    try {
      rmdirSync(dir);
    } catch {}
  }
}

export async function startAgent({ bin, pluginDir, config = '', env = {} }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'drover-ui-test-'));
  const port = await freePort();
  const cfg = join(dataDir, 'agent.yaml');
  const cgroupParent = `drover-ui-test-${process.pid}-${port}`;
  writeFileSync(cfg, `cgroup_parent: ${cgroupParent}\n${config}`);
  const args = ['agent', '-dev', '-data-dir', join(dataDir, 'data'), '-port', String(port), '-config', cfg];
  if (pluginDir) args.push('-plugin-dir', pluginDir);
  let proc = null;
  let out = '';
  const base = `http://127.0.0.1:${port}`;
  const launch = async () => {
    proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    await until('the agent to answer /v1/agent/health', async () => {
      if (proc.exitCode !== null) throw new Error('agent exited: ' + out);
      const r = await fetch(base + '/v1/agent/health');
      return r.ok;
    });
  };
  const exit = async () => {
    proc.kill('SIGTERM');
    await until('the agent to exit', () => proc.exitCode !== null || proc.signalCode !== null, 20000).catch(() => proc.kill('SIGKILL'));
  };
  await launch();
  return {
    base,
    output: () => out,
    // The same agent again: same data dir, same port.
    async restart() {
      await exit();
      await launch();
    },
    async stop() {
      await exit();
      await removeCgroupParent(cgroupParent);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A process that is stopped (SIGTERM, then SIGKILL after 20 s) and whose dir goes at the end.
function owned(proc, dir, outRef) {
  return {
    output: () => outRef.out,
    async stop() {
      proc.kill('SIGTERM');
      await until('exit', () => proc.exitCode !== null || proc.signalCode !== null, 20000).catch(() => proc.kill('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function spawnLogged(cmd, args) {
  const ref = { out: '' };
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => (ref.out += d));
  proc.stderr.on('data', (d) => (ref.out += d));
  return { proc, ref };
}

export async function startEtcd() {
  const dir = mkdtempSync(join(tmpdir(), 'drover-ui-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const c = `http://127.0.0.1:${client}`;
  const p = `http://127.0.0.1:${peer}`;
  const { proc, ref } = spawnLogged('etcd', ['--name', 'ui', '--data-dir', join(dir, 'data'), '--listen-client-urls', c,
    '--advertise-client-urls', c, '--listen-peer-urls', p, '--initial-advertise-peer-urls', p, '--initial-cluster', `ui=${p}`]);
  await until('etcd to answer', async () => {
    if (proc.exitCode !== null) throw new Error('etcd exited: ' + ref.out);
    return (await fetch(c + '/health')).ok;
  });
  return { endpoint: c, ...owned(proc, dir, ref) };
}

export async function startServer({ bin, name, etcd }) {
  const dir = mkdtempSync(join(tmpdir(), 'drover-ui-server-'));
  const port = await freePort();
  const cfg = join(dir, 'server.yaml');
  writeFileSync(cfg, `name: ${name}\nport: ${port}\nleader_ttl: 3s\netcd:\n  endpoints: ["${etcd.endpoint}"]\n  prefix: /drover-ui\n`);
  const { proc, ref } = spawnLogged(bin, ['server', '-config', cfg]);
  const base = `http://127.0.0.1:${port}`;
  await until('the server to answer', async () => {
    if (proc.exitCode !== null) throw new Error('server exited: ' + ref.out);
    return (await fetch(base + '/v1/agent/health')).ok;
  });
  return { base, ...owned(proc, dir, ref) };
}

// The agent's config for a cluster on `etcd` (upstream etcd, the servers' prefix).
export function clusterAgentConfig(etcd) {
  return `upstream:\n  backend: etcd\n  etcd:\n    endpoints: ["${etcd.endpoint}"]\n    prefix: /drover-ui\n    heartbeat_ttl: 3s\n`;
}
