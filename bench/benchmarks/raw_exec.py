# raw_exec: submit -> Started and submit -> exit of /bin/true through the agent, against a
# bare fork/exec (posix_spawn + waitpid) of the same command, interleaved.
import os
import time

from lib import ab, baseline, settle
from lib.agent import Agent, job_doc
from lib.report import Report
from lib.task_timing import QuietClient, drover_once, start_steps, step_rows


def bare_fork_exec():
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn("/bin/true", ["/bin/true"], {})  # returns once exec has happened
    t1 = time.perf_counter_ns()
    os.waitpid(pid, 0)
    t2 = time.perf_counter_ns()
    return (t1 - t0) / 1e6, (t2 - t0) / 1e6


def run(ctx):
    rep = Report("raw_exec: /bin/true through the agent vs a bare fork/exec")
    agent = Agent(ctx.build_dir)
    seq = [0]
    phases = {}
    try:
        agent.start()
        steps_before = start_steps(agent)

        # Each agent's client keeps still through the start it times (lib/task_timing.py,
        # QuietClient); one more side watches from the submit, as `nomad job run` does.
        quiet = {}

        def once(a, phases=None, watching=False):
            seq[0] += 1
            jid = f"bench-raw-{seq[0]}"
            return drover_once(a, job_doc(jid, "raw_exec", {"command": "/bin/true"}), jid,
                               phases=phases, as_seen=watching,
                               quiet=None if watching else quiet.setdefault(id(a), QuietClient()))

        seen = "drover raw_exec, client watching, as it saw them"
        with baseline.agent(ctx) as base:
            sides = ([("drover raw_exec", lambda: once(agent, phases)),
                      (seen, lambda: once(agent, watching=True))] +
                     baseline.side("drover raw_exec", base, once) +
                     baseline.side(seen, base, lambda a: once(a, watching=True)) +
                     [("bare fork/exec", bare_fork_exec)])
            agents = [a.proc.pid for a in (agent, base) if a]
            res = ab.interleave(settle.after_each(sides, lambda: agents), ctx.runs)
            hdr, against = baseline.ratio_columns(
                "drover raw_exec", base,
                ["measure", "runs", "min", "median", "max", "ratio to bare fork/exec"],
                ["bare fork/exec"])
            if base:  # the watching side against the baseline's watching side
                hdr = hdr + ["ratio to its baseline side"]
                against = against + [f"{seen} ({baseline.LABEL})"]
        steps = step_rows(steps_before, start_steps(agent))
    finally:
        agent.shutdown()
    rep.add_table(hdr, ab.rows(res, against, "started") + ab.rows(res, against, "exit"))
    d_start = ab.median(res, "drover raw_exec", "started")
    b_start = ab.median(res, "bare fork/exec", "started")
    rep.add_table(["target (medians)", "limit", "measured", "verdict"], [
        ab.target_row("raw_exec submit → Started", d_start, 5.0),
        ab.target_row("raw_exec Started − bare fork/exec", None if d_start is None else d_start - b_start, 3.0),
    ])
    rep.add_table(["drover task event (median)", "since submit", "step"], ab.phase_rows(phases))
    rep.add_table(["agent start step (/v1/metrics)", "runs", "mean"], steps)
    rep.note(f"Runs interleaved, each round in a shuffled order, after 2 warm-up rounds; "
             f"one job per run (batch, count 1, "
             f"memory 10 MB, cpu 1 MHz), deleted after each run outside the timed window. The "
             f"client keeps still until the task has ended (it looks after twice the last "
             f"submit → exit it saw), except on the \"client watching\" side, which waits on "
             f"blocking queries from the submit and so runs beside the start it times; its "
             f"times are its own clock's when a reply first showed the event, where the other "
             f"sides' are the agent's event stamps.")
    return rep.text()
