# stats: the agent's CPU while a client reads GET /v1/client/allocation/:id/stats for each of
# N running tasks once a second, against the same agent with the same tasks and no client
# (where its one collector still reads every task cgroup once per collection_interval).
import http.client
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from lib import procfs, workload
from lib.agent import Agent
from lib.report import Report, fmt, verdict

WINDOW = 10.0
# Client threads: one fresh connection per read (see keep_alive_latency) takes ~1 ms of the
# client's time, so N = 1000 reads fit in a second only side by side. 8 threads drew 429s
# from the agent's http_max_conns_per_client (12): connections still closing count.
CLIENTS = 4


def cpu_share(agent, seconds, work=None):
    """Agent CPU as a % of one core over a window; work() runs once a second if given."""
    cpu0, t0 = agent.cpu_seconds(), time.monotonic()
    rounds = []
    while time.monotonic() - t0 < seconds:
        tick = time.monotonic()
        if work:
            work()
            rounds.append(time.monotonic() - tick)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    return 100.0 * (agent.cpu_seconds() - cpu0) / (time.monotonic() - t0), rounds


def keep_alive_latency(agent, alloc_id, reads=20):
    """Median ms of one stats read on fresh connections and on one kept-alive connection."""
    path = f"/v1/client/allocation/{alloc_id}/stats"
    fresh, kept = [], []
    for _ in range(reads):
        t = time.perf_counter()
        agent.request("GET", path)
        fresh.append((time.perf_counter() - t) * 1000)
    conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=60)
    for _ in range(reads):
        t = time.perf_counter()
        agent.request("GET", path, conn=conn)
        kept.append((time.perf_counter() - t) * 1000)
    conn.close()
    return statistics.median(fresh), statistics.median(kept)


def run(ctx):
    rep = Report(f"stats: agent CPU while a client reads stats of {ctx.n} tasks every second")
    agent = Agent(ctx.build_dir)
    try:
        agent.start()
        workload.submit_one_job(agent, ctx.n)
        ids = [a["ID"] for a in agent.wait_running(ctx.n, poll=0.5)]
        # At rest: every alloc's health recorded (service allocs, ~10 s after they run).
        decided = agent.wait_healthy(ctx.n)
        time.sleep(1)
        idle, _ = cpu_share(agent, WINDOW)
        bad = []
        pool = ThreadPoolExecutor(CLIENTS)

        def read(i):
            # A fresh connection per read: see keep_alive_latency.
            st, _ = agent.request("GET", f"/v1/client/allocation/{i}/stats")
            if st != 200:
                bad.append(st)

        def collect():
            list(pool.map(read, ids))

        busy, rounds = cpu_share(agent, WINDOW, collect)
        pool.shutdown()
        fds, nofile = procfs.open_fds(agent.pid), procfs.soft_nofile(agent.pid)
        fresh_ms, kept_ms = keep_alive_latency(agent, ids[0])
    finally:
        agent.shutdown()
    rows = [
        [f"agent with {ctx.n} tasks, no client (the collector alone)", fmt(idle, "%"), "", "", ""],
        [f"agent while stats of {ctx.n} tasks are read every 1 s", fmt(busy, "%"),
         fmt(statistics.median(rounds) * 1000, "ms") if rounds else "n/a",
         "< 5 % (1000 tasks)", verdict(busy < 5) if ctx.n >= 1000 else "n/a (N < 1000)"],
        ["one stats read, fresh connection (median of 20)", "", fmt(fresh_ms, "ms"), "", ""],
        ["one stats read, kept-alive connection (median of 20)", "", fmt(kept_ms, "ms"), "", ""],
    ]
    rep.add_table(["measure", "agent CPU (% of one core)", "latency: one round of N reads (median) / one read",
                   "target", "verdict"], rows)
    rep.note(f"Agent file descriptors after the reads: {fds} open of a soft limit of {nofile}.")
    rep.note(f"The windows start once the allocs' health is decided ({decided} of {ctx.n}): until then "
             "the agent records a health verdict per alloc, once, which is not what it costs at rest.")
    if rounds and max(rounds) > 1.0:
        rep.note(f"Some rounds took longer than 1 s (max {max(rounds):.2f} s): reads were not once a second.")
    if bad:
        rep.note(f"{len(bad)} stats reads failed (statuses {sorted(set(bad))}).")
    rep.note(f"Each window is {WINDOW:.0f} s; agent CPU is utime+stime from /proc/PID/stat. The "
             f"client reads the N allocs from {CLIENTS} threads, one fresh connection per read; a round longer "
             "than 1 s starts the next at once. The agent's collector reads every task cgroup once per "
             "collection_interval (1 s) in both windows; requests are served from its samples.")
    return rep.text()
