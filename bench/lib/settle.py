# Waits, untimed, until the processes a benchmark's sides share (the agents, dockerd,
# containerd) have stopped spending CPU, so that no side is timed while the one before it is
# still being cleaned up after (the start-path benchmarks: raw_exec, exec_runc, docker; with a
# baseline build, the side after the first agent's was the second agent's). Without it, on 2 cores, whichever side ran right after drover's
# read 3-4 % slower than the same side elsewhere in the round: two copies of the Engine API
# side in one round read 647.6 and 624.1 ms; with it, 629.8 and 625.3 ms
# (bench/results/2026-12-05-docker-settle.md).
import subprocess
import time

from . import procfs


def pids_named(*names):
    out = []
    for name in names:
        r = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
        out += [int(p) for p in r.stdout.split()]
    return out


def _cpu(pids):
    total = 0.0
    for pid in pids:
        try:
            total += procfs.cpu_seconds(pid)
        except OSError:
            pass
    return total


def until_quiet(pids, quiet=0.1, poll=0.02, limit=3.0):
    """Returns once the pids' CPU time has not moved for `quiet` seconds (at most `limit`);
    the seconds it waited."""
    t0 = time.monotonic()
    last, still_since = _cpu(pids), t0
    while time.monotonic() - t0 < limit:
        time.sleep(poll)
        now = _cpu(pids)
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= quiet:
            break
    return time.monotonic() - t0


def after_each(sides, pids_fn, **kw):
    """Wraps each (name, fn) of ab.interleave so that it returns only once pids_fn() are quiet."""
    def wrap(fn):
        def run():
            result = fn()
            until_quiet(pids_fn(), **kw)
            return result
        return run
    return [(name, wrap(fn)) for name, fn in sides]
