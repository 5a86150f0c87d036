# A second agent from another build (--baseline-build), run as one more side of the start-path
# benchmarks: the same workload through two builds, interleaved, answers "did this change make
# a start slower?" with the machine's drift hitting both alike. The steady-state benchmarks
# (script_checks, checked_at_rest) measure the two builds' agents one after the other.
import contextlib

from .agent import Agent

LABEL = "baseline build"


@contextlib.contextmanager
def agent(ctx):
    """Yields a started Agent from ctx.baseline_dir, or None when no baseline was asked for."""
    if not ctx.baseline_dir:
        yield None
        return
    a = Agent(ctx.baseline_dir)
    try:
        a.start()
        yield a
    finally:
        a.shutdown()


def side(name, a, once):
    """[(name + " (baseline build)", fn)] for ab.interleave, or [] without a baseline agent;
    once(agent) runs one submission through the agent it is given."""
    return [(f"{name} ({LABEL})", lambda: once(a))] if a else []


def ratio_columns(name, a, hdr, baselines):
    """The table header and the baselines for ab.rows, with a ratio to the baseline build's
    side when there is one."""
    if not a:
        return hdr, baselines
    return hdr + [f"ratio to {LABEL}"], baselines + [f"{name} ({LABEL})"]


def one_after_another(ctx, measure):
    """[label] + measure(agent) for this build's agent, then for the baseline build's when one
    was asked for: one agent at a time, each stopped with its jobs before the next starts (the
    benchmarks that measure an agent at a steady state rather than interleaved starts)."""
    rows = []
    builds = [("drover", ctx.build_dir)] + (
        [(f"drover ({LABEL})", ctx.baseline_dir)] if ctx.baseline_dir else [])
    for label, build in builds:
        a = Agent(build)
        try:
            a.start()
            rows.append([label] + measure(a))
        finally:
            a.stop_all_jobs()
            a.shutdown()
    return rows
