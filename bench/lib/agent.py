# The agent under test: starts `drover agent` on its own port, data dir and cgroup parent,
# talks to its HTTP API, and cleans up every job, task, monitor, container and cgroup it made.
import functools
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import docker_api, http_json, procfs

CGROUP_ROOT = "/sys/fs/cgroup"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def job_doc(job_id, driver, config, count=1, job_type="batch", memory=10, cpu=1, restart=None):
    """A job as JSON (JSON is YAML, so the agent reads it as a YAML job)."""
    group = {"name": "g", "count": count,
             "tasks": [{"name": "t", "driver": driver, "config": config,
                        "resources": {"memory": memory, "cpu": cpu}}]}
    if restart:
        group["restart"] = restart
    return json.dumps({"job": {"id": job_id, "type": job_type, "groups": [group]}})


class Agent:
    _seq = 0

    def __init__(self, build_dir, data_dir=None, port=None, cgroup_parent=None):
        Agent._seq += 1
        self.build_dir = os.path.abspath(build_dir)
        self.binary = os.path.join(self.build_dir, "bin", "drover")
        self.own_dir = data_dir is None
        self.work = tempfile.mkdtemp(prefix="drover-bench-") if data_dir is None else None
        self.data_dir = data_dir or os.path.join(self.work, "data")
        # The tasks' runtime state on tmpfs, as /run is on a systemd host (this VM's /run is on
        # disk); a build older than runtime_dir keeps it in its data dir, as it always did.
        self.runtime_dir = (tempfile.mkdtemp(prefix="drover-bench-run-", dir="/dev/shm")
                            if _knows_runtime_dir(self.binary) and os.path.isdir("/dev/shm") else None)
        self.port = port or free_port()
        self.cgroup_parent = cgroup_parent or f"drover-bench-{os.getpid()}-{Agent._seq}"
        self.proc = None
        self.started_at = None  # time.monotonic() at spawn: the gc loop ticks from here
        self.log_path = None
        self.log_level = "warn"
        self.alloc_ids = set()
        self.job_ids = set()

    # ---- process ------------------------------------------------------------------------
    def config_path(self):
        base = self.work or os.path.dirname(self.data_dir)
        path = os.path.join(base, "agent.yaml")
        with open(path, "w") as f:
            f.write(f"cgroup_parent: {self.cgroup_parent}\n"
                    "gc_max_allocs: 100000\n"
                    + (f"runtime_dir: {self.runtime_dir}\n" if self.runtime_dir else "") +
                    f"log_level: {self.log_level}\n"
                    "plugin:\n  raw_exec:\n    enabled: true\n")
        return path

    def start(self, timeout=60):
        """Starts the agent; returns seconds from spawn to the first 200 of /v1/agent/health."""
        cfg = self.config_path()
        base = self.work or os.path.dirname(self.data_dir)
        self.log_path = os.path.join(base, f"agent-{int(time.time() * 1000)}.log")
        log = open(self.log_path, "w")
        t0 = self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [self.binary, "agent", "--dev", "--data-dir", self.data_dir, "--port", str(self.port),
             "--plugin-dir", os.path.join(self.build_dir, "plugins-out"), "--config", cfg],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        while True:
            if self.health():
                return time.monotonic() - t0
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {self.proc.returncode}; log: {self.log_path}\n"
                                   + open(self.log_path).read()[-2000:])
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"agent not ready within {timeout}s; log: {self.log_path}")
            time.sleep(0.001)

    @property
    def pid(self):
        return self.proc.pid

    def health(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            c.request("GET", "/v1/agent/health")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def cpu_seconds(self):
        return procfs.cpu_seconds(self.pid)

    def rss_kib(self):
        return procfs.rss_kib(self.pid)

    # ---- API ----------------------------------------------------------------------------
    def request(self, method, path, body=None, timeout=120, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/yaml"} if body is not None else {}
        return http_json.exchange(c, conn is None, method, path, body, headers)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def submit(self, doc, conn=None):
        status, body = self.request("POST", "/v1/jobs", body=doc, conn=conn)
        if status != 200:
            raise RuntimeError(f"submit failed ({status}): {body}")
        self.job_ids.add(body["JobID"])
        self.alloc_ids.update(body["AllocIDs"])
        return body["AllocIDs"]

    def alloc(self, alloc_id):
        return self.get(f"/v1/allocation/{alloc_id}")[1]

    def allocs(self):
        status, body = self.get("/v1/allocations")
        return body if status == 200 else []

    def driver_loaded(self, name):
        status, body = self.get("/v1/plugins")
        return status == 200 and any(p.get("Name") == name and p.get("Type") == "driver"
                                     and p.get("Status") == "loaded" for p in body)

    def wait_running(self, n, timeout=900, poll=0.25, monitors=True):
        """Polls until n allocs run with every task running; returns them (or raises).
        GET /v1/allocations costs the agent O(allocs) (seconds at 1000), so it is asked only
        once n task monitors exist in /proc (for raw_exec tasks), to keep the benchmark's own
        load on the agent small."""
        deadline = time.monotonic() + timeout
        if monitors:
            while len(self.monitor_pids()) < n and time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"agent exited; log: {self.log_path}")
                time.sleep(min(poll, 0.25))
        while True:
            allocs = self.allocs()
            running = [a for a in allocs if a.get("ClientStatus") == "running" and
                       all(ts.get("State") == "running" for ts in (a.get("TaskStates") or {}).values())]
            if len(running) >= n:
                return running
            if any(a.get("ClientStatus") == "failed" for a in allocs):
                bad = next(a for a in allocs if a.get("ClientStatus") == "failed")
                raise RuntimeError(f"alloc failed: {json.dumps(bad)[:1500]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(running)}/{n} allocs running after {timeout}s")
            time.sleep(poll)

    def wait_healthy(self, n, timeout=120, poll=1.0):
        """Polls until n allocs have their health decided (DeploymentStatus.Healthy set, ~10 s
        after they run: min_healthy_time). Until then the agent records a verdict per alloc,
        work that a window measuring the agent at rest must not include. Returns how many."""
        deadline = time.monotonic() + timeout
        while True:
            decided = sum(1 for a in self.allocs()
                          if isinstance(a.get("DeploymentStatus"), dict)
                          and a["DeploymentStatus"].get("Healthy") is not None)
            if decided >= n or time.monotonic() > deadline:
                return decided
            time.sleep(poll)

    def monitor_pids(self):
        return procfs.pids_with_arg("drover-monitor", self.data_dir + "/")

    # ---- cleanup ------------------------------------------------------------------------
    def stop_all_jobs(self, timeout=600):
        if self.proc is None or self.proc.poll() is not None:
            return
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        for j in sorted(self.job_ids):
            self.request("DELETE", f"/v1/job/{j}", conn=conn)
        conn.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(a.get("ClientStatus") not in ("pending", "running") for a in self.allocs()):
                return
            time.sleep(0.5)

    def shutdown(self):
        """Stops every job, the agent, and removes anything left: processes, containers,
        cgroups, the data dir. Safe to call twice."""
        try:
            self.stop_all_jobs()
        except Exception:
            pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()
        for pid in self.monitor_pids():
            for child in procfs.children(pid):
                _kill(child)
            _kill(pid)
        docker_api.remove_by_alloc_label(self.alloc_ids)
        remove_cgroup_tree(self.cgroup_parent)
        if self.own_dir and self.work:
            _umount_under(self.work)
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None
        if self.runtime_dir:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None


@functools.lru_cache(maxsize=None)
def _knows_runtime_dir(binary):
    """Whether this build's agent takes the runtime_dir key (a baseline build may not)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write("runtime_dir: /run/drover\n")
        f.flush()
        r = subprocess.run([binary, "config", "validate", f.name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return r.returncode == 0


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _umount_under(path):
    # The agent mounts a tmpfs at each task's secrets dir; unmount before removing the tree.
    with open("/proc/mounts") as f:
        points = [line.split()[1] for line in f]
    for p in sorted((p for p in points if p.startswith(path + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", p], stderr=subprocess.DEVNULL)


def remove_cgroup_tree(name):
    """Kills what is left in every controller's <name> subtree and removes it, leaves first."""
    if not name:
        return
    for ctrl in os.listdir(CGROUP_ROOT):
        top = os.path.join(CGROUP_ROOT, ctrl, name)
        if not os.path.isdir(top):
            continue
        for _ in range(50):
            for d, _subdirs, _files in os.walk(top, topdown=False):
                try:
                    with open(os.path.join(d, "cgroup.procs")) as f:
                        for pid in f.read().split():
                            _kill(int(pid))
                except OSError:
                    pass
                try:
                    os.rmdir(d)
                except OSError:
                    pass
            if not os.path.isdir(top):
                break
            time.sleep(0.1)
