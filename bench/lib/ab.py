# Side-by-side runs, interleaved and rotated (A B C, B C A, ...), so that drift in the machine
# hits every side alike.
import statistics

from .report import fmt, stat_row, verdict


def interleave(sides, runs, warmup=2):
    """sides: list of (name, fn) where fn() -> (started_ms or None, exit_ms).
    Returns {name: {"started": [...], "exit": [...]}}; warm-up rounds are dropped.
    Each round starts one side later (A B C, B C A, C A B, ...): with a fixed order the side
    that always followed the bare fork/exec read 1.13x a copy of itself on CI's VM (an A/A run
    of raw_exec, 2026-12-06), so a fixed order would bias every ratio."""
    out = {name: {"started": [], "exit": []} for name, _ in sides}
    for i in range(warmup + runs):
        for k in range(len(sides)):
            name, fn = sides[(i + k) % len(sides)]
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
