# N running raw_exec sleep tasks: submitted as one job (count N, split at the 1000 cap) or as
# N jobs; and snapshots of their monitors and task PIDs.
import re

from . import procfs
from .agent import job_doc

SLEEP = {"command": "/bin/sleep", "args": ["3600"]}


def submit_one_job(agent, n, prefix="bench-many"):
    left, i = n, 0
    while left > 0:  # a group's count is at most 1000
        c = min(left, 1000)
        agent.submit(job_doc(f"{prefix}-{i}", "raw_exec", SLEEP, count=c, job_type="service"))
        left -= c
        i += 1


def submit_many_jobs(agent, n, prefix="bench-job"):
    # One connection per job, as N runs of a CLI would do (and a kept-alive connection's
    # replies wait ~40 ms each for delayed ACKs: see BENCHMARKS.md, stats).
    for i in range(n):
        agent.submit(job_doc(f"{prefix}-{i}", "raw_exec", SLEEP, job_type="service"))


def task_pids(agent):
    """{alloc id: (monitor pid, task pid, task start ticks)} read from /proc."""
    out = {}
    for mon in agent.monitor_pids():
        argv = [a.decode(errors="replace") for a in procfs.cmdline(mon)]
        m = next((re.search(r"/tasks/([0-9a-f-]{36})/", a) for a in argv if "/tasks/" in a), None)
        kids = procfs.children(mon)
        if not m or not kids:
            continue
        try:
            out[m.group(1)] = (mon, kids[0], procfs.start_ticks(kids[0]))
        except OSError:
            pass
    return out


def max_started_ns(allocs):
    return max(ts.get("StartedAtNs", 0) for a in allocs for ts in (a.get("TaskStates") or {}).values())


def restarts_and_starts(allocs):
    """{alloc id: (sum of Restarts, number of Started events)}."""
    out = {}
    for a in allocs:
        r = s = 0
        for ts in (a.get("TaskStates") or {}).values():
            r += ts.get("Restarts", 0)
            s += sum(1 for e in ts.get("Events", []) if e.get("Type") == "Started")
        out[a["ID"]] = (r, s)
    return out
