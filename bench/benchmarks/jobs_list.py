# jobs_list: GET /v1/jobs as the agent's job count grows (one finished batch alloc per job,
# allocs kept: the bench agent sets gc_max_allocs high). Each job's status used to come from a
# snapshot of every alloc on the node (O(jobs x allocs): 14 s at 2,687 jobs); it now reads the
# job's own allocs through AllocManager's by-job index.
import time

from lib.agent import Agent, job_doc
from lib.report import Report, stat_row

TRUE = {"command": "/bin/true"}


def list_ms(agent, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        status, body = agent.get("/v1/jobs")
        out.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise RuntimeError(f"GET /v1/jobs: {status}")
    return out, len(body)


def wait_all_dead(agent, n, timeout=900):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = agent.get("/v1/jobs")
        if sum(1 for j in body if j.get("Status") == "dead") >= n:
            return
        time.sleep(1)
    raise RuntimeError(f"not all {n} jobs dead after {timeout}s")


def run(ctx):
    rep = Report(f"jobs_list: GET /v1/jobs at up to {ctx.n} jobs")
    sizes = sorted({max(1, ctx.n // 8), max(1, ctx.n // 4), max(1, ctx.n // 2), ctx.n})
    runs = max(5, min(ctx.runs, 20))
    rows = []
    agent = Agent(ctx.build_dir)
    try:
        agent.start()
        made = 0
        for size in sizes:
            while made < size:
                agent.submit(job_doc(f"bench-jl-{made}", "raw_exec", TRUE))
                made += 1
            wait_all_dead(agent, size)
            cpu0 = agent.cpu_seconds()
            times, listed = list_ms(agent, runs)
            cpu_ms = (agent.cpu_seconds() - cpu0) * 1000 / runs
            if listed != size:
                raise RuntimeError(f"listed {listed} jobs, submitted {size}")
            rows.append(stat_row(f"{size} jobs, {size} allocs", times, "ms", [f"{cpu_ms:.1f} ms"]))
    finally:
        agent.shutdown()
    rep.add_table(["GET /v1/jobs", "runs", "min", "median", "max", "agent CPU per read"], rows)
    rep.note("One fresh connection per read, after every job's alloc finished. Before the by-job "
             "index the listing was quadratic: see BENCHMARKS.md for the numbers measured then.")
    return rep.text()
