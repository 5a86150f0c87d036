# exec: /bin/true through the agent's exec driver (runc) against a bare `runc run` of an
# equivalent OCI bundle (busybox root, the same command), interleaved.
import json
import os
import shutil
import subprocess
import tempfile
import time

from lib import ab, baseline, settle
from lib.agent import Agent, job_doc, remove_cgroup_tree
from lib.report import Report
from lib.task_timing import QuietClient, drover_once, start_steps, step_rows

RUNC = shutil.which("runc") or "/usr/sbin/runc"


def make_bundle(args):
    """An OCI bundle whose root holds busybox-static and its applets; runc's default spec."""
    bundle = tempfile.mkdtemp(prefix="drover-bench-bundle-")
    root = os.path.join(bundle, "rootfs")
    for d in ("bin", "tmp", "etc", "proc", "sys", "dev"):
        os.makedirs(os.path.join(root, d))
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(root, "bin", a))
    subprocess.run([RUNC, "spec", "--bundle", bundle], check=True)
    spec_path = os.path.join(bundle, "config.json")
    with open(spec_path) as f:
        spec = json.load(f)
    spec["process"]["args"] = args
    spec["process"]["terminal"] = False
    spec["linux"]["cgroupsPath"] = f"/drover-bench-runc-{os.getpid()}"
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    return bundle


def bare_runc_run(bundle, seq):
    cid = f"drover-bench-{os.getpid()}-{seq}"
    t0 = time.perf_counter_ns()
    subprocess.run([RUNC, "run", "--bundle", bundle, cid], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, check=True)
    return None, (time.perf_counter_ns() - t0) / 1e6


def run(ctx):
    rep = Report("exec: /bin/true through the exec driver vs a bare `runc run`")
    agent = Agent(ctx.build_dir)
    bundle = make_bundle(["/bin/true"])
    seq = [0]
    try:
        agent.start()
        have_exec = agent.driver_loaded("exec")
        steps_before = start_steps(agent)

        quiet = {}  # the client keeps still through the start it times (lib/task_timing.py)

        def once(a):
            seq[0] += 1
            jid = f"bench-exec-{seq[0]}"
            return drover_once(a, job_doc(jid, "exec", {"command": "/bin/true"}), jid,
                               quiet=quiet.setdefault(id(a), QuietClient()))

        def runc():
            seq[0] += 1
            return bare_runc_run(bundle, seq[0])

        with baseline.agent(ctx) as base:
            base = base if have_exec and base and base.driver_loaded("exec") else None
            sides = ([("drover exec", lambda: once(agent))] if have_exec else []) + \
                baseline.side("drover exec", base, once) + [("bare runc run", runc)]
            agents = [a.proc.pid for a in (agent, base) if a]
            res = ab.interleave(settle.after_each(sides, lambda: agents), ctx.runs)
            hdr, against = baseline.ratio_columns(
                "drover exec", base, ["measure", "runs", "min", "median", "max", "ratio to runc run"],
                ["bare runc run"])
        steps = step_rows(steps_before, start_steps(agent))
    finally:
        agent.shutdown()
        shutil.rmtree(bundle, ignore_errors=True)
        remove_cgroup_tree(f"drover-bench-runc-{os.getpid()}")
    rows = ab.rows(res, against, "started") + ab.rows(res, against, "exit")
    if not have_exec:
        rows.insert(0, ["drover exec", "exec driver not available", "", "", "", ""])
    rep.add_table(hdr, rows)
    d = ab.median(res, "drover exec", "exit")
    r = ab.median(res, "bare runc run", "exit")
    rep.add_table(["target (medians)", "limit", "measured", "verdict"], [
        ["exec submit → exit ÷ runc run", "<= 1.15×",
         "exec driver not available" if d is None else f"{d / r:.2f}×",
         "n/a" if d is None else ("met" if d / r <= 1.15 else "**missed**")],
    ])
    if steps:
        rep.add_table(["agent start step (/v1/metrics)", "runs", "mean"], steps)
    rep.note("`runc run` is measured from spawn to exit (it has no separate start point); the "
             "bundle is runc's default spec with a busybox-static root. The drover side runs only "
             "when GET /v1/plugins lists a loaded driver named exec.")
    return rep.text()
