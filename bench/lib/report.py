# Markdown tables for benchmark results: runs, min/median/max, A/B ratios and target verdicts.
import statistics


def ms(ns):
    return ns / 1e6


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if abs(v) >= 100:
        s = f"{v:.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return f"{s} {unit}".strip()


def summary(values):
    """(runs, min, median, max) of a list of numbers; Nones for an empty list."""
    if not values:
        return 0, None, None, None
    return len(values), min(values), statistics.median(values), max(values)


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in r) + " |")
    return "\n".join(out)


def stat_row(name, values, unit, extra=()):
    n, lo, med, hi = summary(values)
    return [name, str(n), fmt(lo, unit), fmt(med, unit), fmt(hi, unit), *extra]


def verdict(ok):
    if ok is None:
        return "n/a"
    return "met" if ok else "**missed**"


class Report:
    """Collects one benchmark's markdown: a title, tables and notes."""

    def __init__(self, title):
        self.parts = [f"## {title}", ""]

    def add_table(self, headers, rows):
        self.parts += [table(headers, rows), ""]

    def note(self, text):
        self.parts += [text, ""]

    def text(self):
        return "\n".join(self.parts)
