# checked_at_rest: the agent's CPU at rest with N service tasks, each with a tcp check every
# 60 s, every alloc's health decided: what the health watcher (a look at the allocs twice a
# second), the catalog's view of the checks and the threads the checks run on cost a node of
# many checked services between checks. With --baseline-build, that build's agent is measured the same way, after this one's.
import json
import socket
import time

from lib import baseline, procfs
from lib.report import Report

WINDOW = 30.0
GC_INTERVAL = 60.0  # the agent's default gc_interval


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once closed: each check fails, cheaply


def job(n, port):
    task = {"name": "t", "driver": "raw_exec",
            "config": {"command": "/bin/sleep", "args": ["100000"]},
            "resources": {"memory": 10, "cpu": 1},
            "services": [{"name": "app", "port": str(port), "checks": [{
                "name": "tcp", "type": "tcp", "interval": "60s", "timeout": "1s"}]}]}
    return json.dumps({"job": {"id": "bench-checked", "type": "service", "groups": [{
        "name": "g", "count": n, "tasks": [task],
        "update": {"health_check": "task_states", "min_healthy_time": "1s"}}]}})


def measure(agent, n):
    agent.submit(job(n, closed_port()))
    agent.wait_running(n, poll=0.5)
    decided = agent.wait_healthy(n, timeout=300)
    time.sleep(5)  # the last verdicts' writes are past
    cpu0, t0 = agent.cpu_seconds(), time.monotonic()
    time.sleep(WINDOW)
    secs = time.monotonic() - t0
    cpu = 100.0 * (agent.cpu_seconds() - cpu0) / secs
    rss = agent.rss_kib() / 1024
    # The agent gives freed heap back after each gc pass (gc_interval 1 min from its start).
    time.sleep(max(0.0, agent.started_at + GC_INTERVAL + 5 - time.monotonic()))
    return [str(decided), f"{cpu:.2f} %", f"{rss:.0f} MiB", f"{agent.rss_kib() / 1024:.0f} MiB",
            str(procfs.threads(agent.pid))]


def run(ctx):
    n = ctx.n
    rep = Report(f"checked_at_rest: the agent with {n} tasks, each with a tcp check every 60 s, "
                 "health decided")
    rows = baseline.one_after_another(ctx, lambda agent: [str(n)] + measure(agent, n))
    rep.add_table(["agent", "tasks", "health decided", "agent CPU (of a core)", "agent RSS",
                   "agent RSS after a gc pass", "agent threads"], rows)
    rep.note(f"CPU (utime + stime) of the agent process over {WINDOW:.0f} s, 5 s after the last "
             "verdict; the stats collector's reads of every task cgroup are in it too (compare "
             "`stats`, whose tasks have no checks). RSS at the end of that window, and again 5 s "
             "after the agent's first gc pass (a minute after its start), which gives freed heap "
             "back to the kernel.")
    return rep.text()
