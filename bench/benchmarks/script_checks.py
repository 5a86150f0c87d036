# script_checks: the agent's CPU and page faults while N raw_exec tasks each run a script
# health check (/bin/true) every INTERVAL. Each check is a process the agent starts (through
# the driver's exec): what that costs the agent, beyond the check itself, is what a node with
# many checked services pays all the time. With --baseline-build, the other build's agent is
# measured the same way, one after the other.
import json
import time

from lib import baseline, procfs
from lib.report import Report

WINDOW = 20.0
INTERVAL_S = 1


def job(n):
    task = {"name": "t", "driver": "raw_exec",
            "config": {"command": "/bin/sleep", "args": ["100000"]},
            "resources": {"memory": 10, "cpu": 1},
            "services": [{"name": "app", "checks": [{
                "name": "alive", "type": "script", "command": "/bin/true",
                "interval": f"{INTERVAL_S}s", "timeout": "5s"}]}]}
    return json.dumps({"job": {"id": "bench-checks", "type": "service",
                               "groups": [{"name": "g", "count": n, "tasks": [task]}]}})


def measure(agent, n):
    agent.submit(job(n))
    agent.wait_running(n, poll=0.5)
    time.sleep(3)  # the first round of checks, started together, is past
    faults0, cpu0, t0 = procfs.minor_faults(agent.pid), agent.cpu_seconds(), time.monotonic()
    time.sleep(WINDOW)
    secs = time.monotonic() - t0
    return [f"{100.0 * (agent.cpu_seconds() - cpu0) / secs:.1f} %",
            f"{(procfs.minor_faults(agent.pid) - faults0) / secs:,.0f}",
            f"{agent.rss_kib() / 1024:.0f} MiB"]


def run(ctx):
    n = min(ctx.n, 200)  # 200 checks a second: more is the machine's process creation, not the agent
    rep = Report(f"script_checks: the agent with {n} tasks, each with a script check every "
                 f"{INTERVAL_S} s")
    rows = baseline.one_after_another(
        ctx, lambda agent: [str(n), f"{n / INTERVAL_S:.0f}"] + measure(agent, n))
    rep.add_table(["agent", "tasks", "checks/s", "agent CPU (of a core)", "minor faults/s",
                   "agent RSS"], rows)
    rep.note(f"CPU (utime + stime) and minor faults of the agent process alone over {WINDOW:.0f} s, "
             "after the first round; the checks' own processes are not counted.")
    return rep.text()
