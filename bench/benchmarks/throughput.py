# throughput: N raw_exec sleep tasks as one job (count N) and as N jobs of one task: time from
# the first POST until every task runs, and the agent's CPU seconds meanwhile.
import time

from lib import workload
from lib.agent import Agent
from lib.report import Report, fmt, verdict


def one_round(ctx, label, submit):
    agent = Agent(ctx.build_dir)
    try:
        agent.start()
        time.sleep(1)
        cpu0 = agent.cpu_seconds()
        t0 = time.time_ns()
        submit(agent, ctx.n)
        t_submitted = time.time_ns()
        allocs = agent.wait_running(ctx.n, poll=0.5)
        cpu = agent.cpu_seconds() - cpu0
        all_run = (workload.max_started_ns(allocs) - t0) / 1e9
        return [label, str(ctx.n), fmt((t_submitted - t0) / 1e9, "s"), fmt(all_run, "s"),
                fmt(cpu, "s"), fmt(ctx.n / all_run, "tasks/s"), "<= 10 s (1000 tasks)",
                verdict(all_run <= 10) if ctx.n >= 1000 else "n/a (N < 1000)"]
    finally:
        agent.shutdown()


def run(ctx):
    rep = Report(f"throughput: {ctx.n} raw_exec sleep tasks")
    rows = [one_round(ctx, f"one job, count {ctx.n}", workload.submit_one_job),
            one_round(ctx, f"{ctx.n} jobs, count 1", workload.submit_many_jobs)]
    rep.add_table(["shape", "tasks", "submit calls done", "all running", "agent CPU", "rate",
                   "target", "verdict"], rows)
    rep.note("'all running' is the latest task StartedAtNs minus the client's clock just before "
             "the first POST; 'agent CPU' is utime+stime of the agent process from /proc over "
             "the same window. The benchmark counts task monitors in /proc and asks "
             "GET /v1/allocations (every 0.5 s) only once all N exist, to keep its own load "
             "on the agent small. Each shape runs on a fresh agent.")
    return rep.text()
