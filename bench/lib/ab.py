# Side-by-side runs, interleaved in a shuffled order each round, so that drift in the machine and
# whatever ran just before hit every side alike.
import random
import statistics

from .report import fmt, stat_row, verdict


def interleave(sides, runs, warmup=2, seed=0):
    """sides: list of (name, fn) where fn() -> (started_ms or None, exit_ms).
    Returns {name: {"started": [...], "exit": [...]}}; warm-up rounds are dropped.
    Each round runs the sides in a new shuffled order (seeded, so a rerun repeats it): what
    ran just before a side moves its figure. In a fixed order, and in a rotated one (A B C,
    B C A, ...), which keeps each side's neighbours, the agent side that came after the bare
    fork/exec (its CPUs idle) read 1.10-1.13x a copy of itself on CI's VM (A/A runs of
    raw_exec, 2026-12-06)."""
    rng = random.Random(seed)
    out = {name: {"started": [], "exit": []} for name, _ in sides}
    order = list(sides)
    for i in range(warmup + runs):
        rng.shuffle(order)
        for name, fn in order:
            started, exited = fn()
            if i < warmup:
                continue
            if started is not None:
                out[name]["started"].append(started)
            out[name]["exit"].append(exited)
    return out


def rows(results, baseline_names, metric):
    """Table rows for one metric: each side's stats and its median's ratio to each baseline."""
    meds = {n: statistics.median(v[metric]) if v[metric] else None for n, v in results.items()}
    out = []
    for name, v in results.items():
        ratios = []
        for b in baseline_names:
            if b == name or meds[name] is None or not meds.get(b):
                ratios.append("—" if b == name else "n/a")
            else:
                ratios.append(f"{meds[name] / meds[b]:.2f}×")
        out.append(stat_row(f"{name}: submit → {metric}", v[metric], "ms", ratios))
    return out


def median(results, name, metric):
    v = results.get(name, {}).get(metric) or []
    return statistics.median(v) if v else None


def target_row(what, value, limit, unit="ms", cmp="<="):
    ok = None if value is None else (value <= limit if cmp == "<=" else value < limit)
    return [what, f"{cmp} {fmt(limit, unit)}", fmt(value, unit), verdict(ok)]


def phase_rows(phases, order=("Received", "Task Setup", "Started", "Terminated")):
    """Median offset from submit of each task event, and the step from the one before."""
    out, prev = [], 0.0
    for name in order:
        v = phases.get(name)
        if not v:
            continue
        m = statistics.median(v)
        out.append([name, fmt(m, "ms"), fmt(m - prev, "ms")])
        prev = m
    return out
