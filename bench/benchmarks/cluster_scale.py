# cluster_scale: `drover server` placing work on N simulated nodes (issue 20's goal: 10,000
# allocs placed within 10 s on 1,000 nodes, server RSS under 200 MiB). The nodes are not
# agents: the harness writes each node's key under a lease, as an agent registers, and once
# everything is placed acknowledges every alloc with a running status, as agents report. Two
# shapes, each on a fresh etcd and server: one job of count 10·N, and 10·N jobs of count 1
# (submitted by 8 client threads on kept connections, backing off on a 429; a register is
# answered once the job is stored, as Nomad's is). Placement time runs from just before the first submit to
# the moment etcd holds every alloc key.
import concurrent.futures
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

from lib import procfs
from lib.etcd import Etcd, free_port, terminate
from lib.report import Report, fmt

PREFIX = "/drover"
GOAL_S = 10.0
GOAL_RSS_MIB = 200
CLIENTS = 8  # threads submitting the many jobs


def node_doc(i):
    node_id = str(uuid.UUID(int=i + 1))
    return node_id, json.dumps({
        "ID": node_id, "Name": f"sim-{i}", "Datacenter": "dc1", "NodePool": "default",
        "Status": "ready", "SchedulingEligibility": "eligible", "HTTPAddr": "127.0.0.1:1",
        "Attributes": {"kernel.name": "linux", "driver.raw_exec": "true"},
        "Drivers": {"raw_exec": {"Detected": True, "Healthy": True}},
        "NodeResources": {"Cpu": {"CpuShares": 64000}, "Memory": {"MemoryMB": 131072}}})


def job_yaml(job_id, count):
    return (f"job:\n  id: {job_id}\n  type: service\n  groups:\n    - name: g\n      count: {count}\n"
            "      tasks:\n        - name: t\n          driver: raw_exec\n          config:\n"
            "            command: /bin/sleep\n            args: [\"3600\"]\n"
            "          resources:\n            cpu: 10\n            memory: 10\n")


class Server:
    def __init__(self, build_dir, etcd):
        self.dir = tempfile.mkdtemp(prefix="drover-bench-server-")
        self.port = free_port()
        cfg = self.config = os.path.join(self.dir, "server.yaml")
        self.bin = os.path.join(build_dir, "bin", "drover")
        with open(cfg, "w") as f:
            f.write(f"name: bench\nport: {self.port}\nleader_ttl: 10s\netcd:\n"
                    f"  endpoints: [\"{etcd.endpoint}\"]\n  prefix: {PREFIX}\n")
        self._local = threading.local()
        self.log = os.path.join(self.dir, "server.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([self.bin, "server", "-config", cfg],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def post_kept(self, path, body):
        """A POST on this thread's kept connection, as an API client library sends many."""
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self._local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            c.request("POST", path, body, {"Content-Type": "application/yaml"})
            r = c.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self._local.conn = None
            raise

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        c.request(method, path, body, {"Content-Type": "application/yaml"} if body else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def wait_leader(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, body = self.request("GET", "/v1/status/leader")
                if status == 200 and json.loads(body):
                    return
            except (OSError, ValueError):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + open(self.log).read()[-2000:])
            time.sleep(0.1)
        raise RuntimeError(f"no leader within {timeout}s:\n" + open(self.log).read()[-2000:])

    def rss_peak_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None

    def stop(self):
        terminate(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_placed(etcd, server, want, timeout=300, stall=30):
    """Polls etcd's alloc count until `want`; returns (count, seconds since t0 of the last
    growth). Gives up after `stall` seconds without growth or `timeout` in all."""
    t0 = time.monotonic()
    last, last_t = 0, t0
    while time.monotonic() - t0 < timeout:
        n = etcd.count(PREFIX + "/allocs/")
        now = time.monotonic()
        if n != last:
            last, last_t = n, now
        if n >= want or now - last_t > stall or server.proc.poll() is not None:
            break
        time.sleep(0.05)
    return last, last_t


def read_ms(server, path, n=10):
    """The median of `n` reads of `path` on the server, in ms (one at a time, fresh requests)."""
    times = []
    for _ in range(n):
        t = time.monotonic()
        status, body = server.request("GET", path)
        times.append((time.monotonic() - t) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]}")
    return sorted(times)[n // 2]


def acknowledge(etcd):
    """A running status for every alloc, as its node would report it; returns their count and
    one alloc's id."""
    kvs = []
    for key, a in etcd.values(PREFIX + "/allocs/"):
        node, alloc = key[len(PREFIX) + len("/allocs/"):].split("/", 1)
        kvs.append((f"{PREFIX}/status/{node}/{alloc}", json.dumps({
            "ID": alloc, "JobID": a.get("JobID"), "TaskGroup": a.get("TaskGroup"),
            "ClientStatus": "running", "DesiredStatus": "run", "ModifyTime": time.time_ns()})))
    etcd.txn_puts(kvs)
    return len(kvs), (kvs[len(kvs) // 2][0].rsplit("/", 1)[1] if kvs else None)


def one_shape(ctx, label, submit, want, job_id):
    etcd = Etcd()
    server = None
    try:
        etcd.start()
        lease = etcd.grant(3600)
        etcd.txn_puts([(f"{PREFIX}/nodes/{nid}", doc) for nid, doc in map(node_doc, range(ctx.n))],
                      lease=lease)
        server = Server(ctx.build_dir, etcd)
        server.wait_leader()
        cpu0 = procfs.cpu_seconds(server.proc.pid)
        t0 = time.monotonic()
        submit(server)
        submitted = time.monotonic() - t0
        placed, t_last = wait_placed(etcd, server, want)
        elapsed = t_last - t0 if placed else None
        cpu = procfs.cpu_seconds(server.proc.pid) - cpu0
        rss = server.rss_peak_mib()
        acked, alloc_id = acknowledge(etcd)
        # The server's steady state with every alloc running: CPU over 10 s.
        c0 = procfs.cpu_seconds(server.proc.pid)
        time.sleep(10)
        idle = (procfs.cpu_seconds(server.proc.pid) - c0) / 10 * 100
        rss_after = server.rss_peak_mib()
        # What a user waits for, with every alloc running: `alloc status` (by an 8-character
        # prefix), a job's read and the lists the web UI polls, served from the leader's view
        # (after the RSS peak is taken: each read holds a copy of the cluster for a moment).
        alloc_read = read_ms(server, f"/v1/allocation/{alloc_id[:8]}") if alloc_id else None
        job_read = read_ms(server, "/v1/job/" + job_id, n=3)
        jobs_read = read_ms(server, "/v1/jobs", n=3)
        allocs_read = read_ms(server, "/v1/allocations", n=3)
        rss_reads = server.rss_peak_mib()
        # An operator's backup (`operator snapshot save`): how long it takes, how large it is.
        t = time.monotonic()
        status, snap = server.request("GET", "/v1/operator/snapshot")
        snap_ms = (time.monotonic() - t) * 1000
        if status != 200:
            raise RuntimeError(f"GET /v1/operator/snapshot: {status} {snap[:300]}")
        # And putting it back (`operator snapshot restore`) into the same etcd, the server running:
        # every key written again, the leader held meanwhile.
        snap_file = os.path.join(server.dir, "bench.snap")
        with open(snap_file, "wb") as f:
            f.write(snap)
        t = time.monotonic()
        restore = subprocess.run([server.bin, "operator", "snapshot", "restore", "-config", server.config, snap_file],
                                 capture_output=True, text=True)
        restore_s = time.monotonic() - t
        if restore.returncode != 0:
            raise RuntimeError(f"operator snapshot restore: {restore.stderr[-300:]}")
        conflicts = sum("planning again" in line for line in open(server.log))
        errors = [line.strip() for line in open(server.log) if "writing the plan" in line][:1]
        ok = placed >= want and elapsed <= GOAL_S and max(rss, rss_after) < GOAL_RSS_MIB
        return [label, f"{placed}/{want}", fmt(elapsed, "s"), fmt(placed / elapsed if elapsed else None, "/s"),
                fmt(submitted, "s"), fmt(cpu, "s"), fmt(max(rss, rss_after), "MiB"), fmt(idle, "%"),
                str(conflicts), fmt(alloc_read, "ms"), fmt(job_read, "ms"), fmt(jobs_read, "ms"),
                fmt(allocs_read, "ms"), fmt(rss_reads, "MiB"),
                f"{fmt(snap_ms, 'ms')}, {len(snap) / 2**20:.1f} MiB", fmt(restore_s, "s"),
                "met" if ok else "**missed**"], acked, errors
    finally:
        if server:
            server.stop()
        etcd.stop()


def run(ctx):
    allocs = 10 * ctx.n
    rep = Report(f"cluster_scale: drover server placing {allocs} allocs on {ctx.n} simulated nodes")
    rows, notes = [], []

    def one_job(server):
        status, body = server.request("POST", "/v1/jobs", job_yaml("big", allocs))
        if status != 200:
            raise RuntimeError(f"submit: {status} {body[:300]}")

    def many_jobs(server):
        def submit(i):
            for attempt in range(100):
                status, body = server.post_kept("/v1/jobs", job_yaml(f"j{i}", 1))
                if status != 429:  # the server's per-client connection limit: back off
                    break
                time.sleep(0.01 * (attempt + 1))
            if status != 200:
                raise RuntimeError(f"submit j{i}: {status} {body[:300]}")
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(submit, range(allocs)))

    for label, submit, job_id in ((f"1 job of count {allocs}", one_job, "big"),
                                  (f"{allocs} jobs of count 1", many_jobs, "j0")):
        row, acked, errors = one_shape(ctx, label, submit, allocs, job_id)
        rows.append(row)
        if errors:
            notes.append(f"{label}: the server's log says: `{errors[0][-300:]}`")
    rep.add_table(["shape", "placed", "until the last placement", "placements/s", "submit took",
                   "server CPU", "server RSS peak", "server CPU, all running", "plans re-planned",
                   "GET /v1/allocation/:prefix (median of 10)", "GET /v1/job/:id (median of 3)",
                   "GET /v1/jobs (median of 3)", "GET /v1/allocations (median of 3)",
                   "server RSS peak after the reads", "GET /v1/operator/snapshot (once): time, size",
                   "operator snapshot restore of it (once)",
                   f"goal: all in {GOAL_S:.0f} s, RSS < {GOAL_RSS_MIB} MiB"], rows)
    rep.note(f"{ctx.n} node keys under one lease (the nodes are not agents); etcd with its defaults "
             "(at most 128 operations per transaction, 1.5 MiB per request) on loopback; placement "
             "time from just before the first submit until the last alloc key appeared in etcd "
             "(polled every 50 ms); 'server CPU, all running' over 10 s after every alloc got a "
             "running status; then the reads, one at a time, each on a fresh connection. " +
             " ".join(notes))
    return rep.text()
