# recovery: SIGKILL the agent with N tasks running and start it again on the same data dir:
# time until the API answers and every alloc runs, and how many tasks were restarted (0).
import time

from lib import workload
from lib.agent import Agent
from lib.report import Report, fmt, verdict


def run(ctx):
    rep = Report(f"recovery: agent SIGKILLed with {ctx.n} tasks running, then restarted")
    agent = Agent(ctx.build_dir)
    try:
        agent.start()
        workload.submit_one_job(agent, ctx.n)
        before_allocs = agent.wait_running(ctx.n, poll=0.5)
        time.sleep(2)
        before = workload.restarts_and_starts(agent.allocs())
        pids_before = workload.task_pids(agent)
        agent.kill9()
        t0 = time.monotonic()
        api_ready = agent.start()
        agent.wait_running(ctx.n, poll=0.05)
        all_running = time.monotonic() - t0
        time.sleep(2)
        after_allocs = agent.allocs()
        after = workload.restarts_and_starts(after_allocs)
        pids_after = workload.task_pids(agent)
    finally:
        agent.shutdown()
    restarted = sum(1 for a, v in before.items() if after.get(a) != v)
    pid_changed = sum(1 for a, v in pids_before.items() if pids_after.get(a) != v)
    rows = [
        ["API answers after restart", fmt(api_ready, "s"), "", ""],
        [f"all {ctx.n} allocs running", fmt(all_running, "s"), "<= 2 s (1000 tasks)",
         verdict(all_running <= 2) if ctx.n >= 1000 else "n/a (N < 1000)"],
        ["tasks restarted (Restarts or Started events changed)", str(restarted), "0", verdict(restarted == 0)],
        [f"task PIDs changed (of {len(pids_before)} seen in /proc)", str(pid_changed), "0",
         verdict(pid_changed == 0)],
    ]
    rep.add_table(["measure", "value", "target", "verdict"], rows)
    rep.note("Times are from spawning the new agent. 'Running' is read from GET /v1/allocations "
             "(ClientStatus running and every task State running). PIDs are the monitors' "
             "children with their start times from /proc, compared before the kill and after.")
    return rep.text()
