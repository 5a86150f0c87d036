# One etcd member on loopback for the cluster benchmark (Debian's etcd-server), and the few
# v3 calls the benchmark makes through etcd's JSON gateway (standard library only: keys and
# values travel base64).
import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time


def terminate(proc, grace=10):
    """SIGTERM, then SIGKILL after `grace` seconds; waits for it either way."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _b64(s):
    return base64.b64encode(s.encode()).decode()


def prefix_end(prefix):
    """The key just past every key under prefix (etcd's range_end for a prefix)."""
    b = bytearray(prefix.encode())
    b[-1] += 1
    return bytes(b).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Etcd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="drover-bench-etcd-")
        self.client, self.peer = free_port(), free_port()
        self.endpoint = f"http://127.0.0.1:{self.client}"
        self.proc = None
        self.conn = None

    def start(self, timeout=30):
        c, p = self.endpoint, f"http://127.0.0.1:{self.peer}"
        log = open(os.path.join(self.dir, "etcd.log"), "w")
        # etcd's defaults otherwise (--max-txn-ops 128, 1.5 MiB requests): what operators run.
        self.proc = subprocess.Popen(
            ["etcd", "--name", "b", "--data-dir", os.path.join(self.dir, "data"),
             "--listen-client-urls", c, "--advertise-client-urls", c, "--listen-peer-urls", p,
             "--initial-advertise-peer-urls", p, "--initial-cluster", f"b={p}",
             "--quota-backend-bytes", str(8 << 30)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.call("/v3/maintenance/status", {}).get("version"):
                    return
            except (OSError, ValueError, http.client.HTTPException):
                self.conn = None
            time.sleep(0.1)
        raise RuntimeError(f"etcd did not answer within {timeout}s; log in {self.dir}")

    def call(self, path, body):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.client, timeout=60)
        self.conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = json.loads(r.read() or b"{}")
        if r.status != 200:
            raise RuntimeError(f"etcd {path}: {r.status} {data}")
        return data

    def grant(self, ttl):
        return self.call("/v3/lease/grant", {"TTL": ttl})["ID"]

    def txn_puts(self, kvs, lease=None):
        """Puts (key, value) pairs, 100 per transaction (etcd refuses more than 128)."""
        for i in range(0, len(kvs), 100):
            ops = []
            for k, v in kvs[i:i + 100]:
                put = {"key": _b64(k), "value": _b64(v)}
                if lease:
                    put["lease"] = lease
                ops.append({"request_put": put})
            self.call("/v3/kv/txn", {"success": ops})

    def count(self, prefix):
        r = self.call("/v3/kv/range", {"key": _b64(prefix), "range_end": _b64(prefix_end(prefix)),
                                        "count_only": True})
        return int(r.get("count", 0))

    def values(self, prefix):
        r = self.call("/v3/kv/range", {"key": _b64(prefix), "range_end": _b64(prefix_end(prefix))})
        return [(base64.b64decode(kv["key"]).decode(), json.loads(base64.b64decode(kv["value"])))
                for kv in r.get("kvs", [])]

    def stop(self):
        terminate(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
