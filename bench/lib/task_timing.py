# Submit one task through the agent and read back submit -> Started and submit -> exit.
# Both ends are wall-clock ns on this machine: the client's clock just before the POST is
# written to an open connection, and the Time the agent stamped on the task's Started and
# Terminated events.
import http.client
import time


class QuietClient:
    """How long the client keeps still after a submit before its first look: twice the last
    submit -> exit it saw (at least 5 ms, at most 2 s), none before it has seen one. The times
    come from the agent's event stamps, so looking later moves no figure; looking during the
    start does. A blocking query returns on every change of the alloc, Task Setup included,
    and on CI's 2-core VM the client's answer to it (parse, ask again, the agent's reply) ran
    beside the start it timed: raw_exec submit -> Started read 0.1-0.5 ms more with the client
    watching from the submit, in six interleaved runs of 60 (bench/results/2026-12-05-quiet-client.md)."""

    def __init__(self):
        self.last_exit_ms = None

    def delay(self):
        return 0.0 if self.last_exit_ms is None else min(max(2 * self.last_exit_ms, 5.0), 2000.0) / 1e3

    def saw(self, exit_ms):
        self.last_exit_ms = exit_ms


def drover_once(agent, job_doc, job_id, timeout=60, poll=0.005, max_poll=0.05, phases=None,
                quiet=None, as_seen=False):
    """Returns (submit->Started ms, submit->exit ms); with phases (a dict), appends each
    event type's offset from submit, for a breakdown of where the time goes.
    With `quiet` (a QuietClient) the client sleeps through the start before it first asks;
    without, it watches from the submit, as `nomad job run` does.
    The times are the agent's event stamps, or with as_seen (a watching client) the client's
    own clock when a reply first showed the event: what a user watching the job sees, the
    stamp plus whatever the agent does before it answers (docs/design.md, "State": Started is
    shown before it is written).
    An agent whose allocs carry ModifyIndex is asked with blocking queries (?index=): no
    polls at all. An older build's polls back off from `poll` to `max_poll`: the times come
    from the agent's event stamps, so a slower poll moves no figure, while polling every 5 ms
    through a 200 ms docker start took enough of the 2 cores from dockerd to read drover 1.11x
    of the Engine API instead of 1.04-1.05x (bench/results/2026-12-05-vfork.md, "The
    benchmark's own polls")."""
    # A fresh connection per request: on a kept-alive one the agent's replies wait ~40 ms for
    # delayed ACKs (Nagle), which slows the polls (not the measure: times come from events).
    conn = None
    # The submit's connection is open before the clock starts: opening it cost this Python
    # client ~0.3 ms on CI's VM (name lookup, socket, connect, before a byte is sent), which
    # a client that keeps its connections (the nomad CLI's Go client) does not pay per job.
    submit_conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=timeout)
    submit_conn.connect()
    try:
        t0 = time.time_ns()
        ids = agent.submit(job_doc, conn=submit_conn)
    finally:
        submit_conn.close()
    if quiet is not None and quiet.delay():
        time.sleep(quiet.delay())
    deadline = time.monotonic() + timeout
    started = exited = None
    events = {}
    query = ""
    while time.monotonic() < deadline:
        _, a = agent.request("GET", f"/v1/allocation/{ids[0]}{query}", conn=conn)
        now = time.time_ns()
        for ev in (a.get("TaskStates") or {}).get("t", {}).get("Events", []):
            at = now if as_seen else ev["Time"]
            events.setdefault(ev["Type"], at)
            if ev["Type"] == "Started" and started is None:
                started = at
            if ev["Type"] in ("Terminated", "Driver Failure", "Setup Failure") and exited is None:
                if ev["Type"] != "Terminated":
                    raise RuntimeError(f"task failed to start: {ev.get('DisplayMessage')}")
                exited = at
        if exited is not None:
            break
        if a.get("ModifyIndex"):
            # A build with blocking queries: ask again only once the alloc has moved, so the
            # client takes no CPU from the start it is timing.
            query = f"?index={a['ModifyIndex']}&wait=30s"
            continue
        time.sleep(poll)
        poll = min(poll * 1.5, max_poll)
    agent.request("DELETE", f"/v1/job/{job_id}", conn=conn)
    if exited is None:
        raise RuntimeError(f"task of {job_id} did not exit within {timeout}s")
    if phases is not None:
        for name, t in events.items():
            phases.setdefault(name, []).append((t - t0) / 1e6)
    if quiet is not None:
        quiet.saw((exited - t0) / 1e6)
    return (started - t0) / 1e6 if started else None, (exited - t0) / 1e6


def start_steps(agent):
    """The agent's own account of its task starts (/v1/metrics, runner/step_timings.hpp):
    {step: (times run, seconds in all)} since it started."""
    status, text = agent.get("/v1/metrics")
    if status != 200 or not isinstance(text, str):
        return {}
    steps = {}
    for line in text.splitlines():
        for family, slot in (("drover_task_start_steps_total", 0),
                             ("drover_task_start_step_seconds_total", 1)):
            prefix = family + '{step="'
            if line.startswith(prefix):
                name, value = line[len(prefix):].split('"} ')
                entry = steps.setdefault(name, [0, 0.0])
                entry[slot] = float(value)
    return {k: (int(v[0]), v[1]) for k, v in steps.items()}


def step_rows(before, after):
    """Mean time per run of each start step between two start_steps() readings, longest first."""
    rows = []
    for name, (n, secs) in after.items():
        n0, s0 = before.get(name, (0, 0.0))
        if n > n0:
            rows.append((name, n - n0, (secs - s0) / (n - n0) * 1e3))
    rows.sort(key=lambda r: -r[2])
    return [[name, str(n), f"{ms:.3f} ms"] for name, n, ms in rows]
