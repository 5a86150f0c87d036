# Submit one task through the agent and read back submit -> Started and submit -> exit.
# Both ends are wall-clock ns on this machine: the client's clock just before the POST, and
# the Time the agent stamped on the task's Started and Terminated events.
import time


def drover_once(agent, job_doc, job_id, timeout=60, poll=0.005, phases=None):
    """Returns (submit->Started ms, submit->exit ms); with phases (a dict), appends each
    event type's offset from submit, for a breakdown of where the time goes."""
    # A fresh connection per request: on a kept-alive one the agent's replies wait ~40 ms for
    # delayed ACKs (Nagle), which slows the polls (not the measure: times come from events).
    conn = None
    t0 = time.time_ns()
    ids = agent.submit(job_doc, conn=conn)
    deadline = time.monotonic() + timeout
    started = exited = None
    events = {}
    while time.monotonic() < deadline:
        _, a = agent.request("GET", f"/v1/allocation/{ids[0]}", conn=conn)
        for ev in (a.get("TaskStates") or {}).get("t", {}).get("Events", []):
            events.setdefault(ev["Type"], ev["Time"])
            if ev["Type"] == "Started" and started is None:
                started = ev["Time"]
            if ev["Type"] in ("Terminated", "Driver Failure", "Setup Failure") and exited is None:
                if ev["Type"] != "Terminated":
                    raise RuntimeError(f"task failed to start: {ev.get('DisplayMessage')}")
                exited = ev["Time"]
        if exited is not None:
            break
        time.sleep(poll)
    agent.request("DELETE", f"/v1/job/{job_id}", conn=conn)
    if exited is None:
        raise RuntimeError(f"task of {job_id} did not exit within {timeout}s")
    if phases is not None:
        for name, t in events.items():
            phases.setdefault(name, []).append((t - t0) / 1e6)
    return (started - t0) / 1e6 if started else None, (exited - t0) / 1e6
