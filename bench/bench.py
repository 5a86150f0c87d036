#!/usr/bin/env python3
# Runs drover's benchmarks by name (or all of them) and prints markdown tables; with --out,
# also writes them to a results file. bench/run.sh builds in release mode and calls this.
import argparse
import contextlib
import datetime
import importlib
import os
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import machine, scratch  # noqa: E402

ALL = ["fingerprint", "raw_exec", "exec_runc", "docker", "memory", "throughput", "recovery", "stats",
       "script_checks", "checked_at_rest", "jobs_list", "hcl_parse", "cluster_scale"]
# The benchmarks whose agents' files (data, alloc and task dirs) go to a journaled filesystem
# where the temp dir's has none (lib/scratch.py); the cluster ones keep theirs where they were.
NODE = {"fingerprint", "raw_exec", "exec_runc", "docker", "memory", "throughput", "recovery", "stats",
        "script_checks", "checked_at_rest"}


class Context:
    def __init__(self, args):
        self.build_dir = os.path.abspath(args.build_dir)
        self.runs = args.runs
        self.n = args.n
        self.baseline_dir = os.path.abspath(args.baseline_build) if args.baseline_build else None


def build_type_of(build_dir):
    """CMAKE_BUILD_TYPE as the build dir was configured with, so that a table says what it
    measured; "unknown" without a CMakeCache.txt."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip() or "unknown"
    except OSError:
        pass
    return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(ALL)}")
    p.add_argument("--build-dir", default=os.path.join(os.path.dirname(__file__), "..", "build-bench"))
    p.add_argument("--build-type", help="how the build dir was configured (default: its "
                                        "CMakeCache.txt's CMAKE_BUILD_TYPE)")
    p.add_argument("--runs", type=int, default=20,
                   help="timed runs per side (interleaved, in a shuffled order each round)")
    p.add_argument("-n", "--n", type=int, default=1000, help="tasks for memory/throughput/recovery/stats")
    p.add_argument("--out", help="also write the tables to this markdown file")
    p.add_argument("--scratch", choices=["auto", "temp"], default="auto",
                   help="where the node benchmarks' agents keep their files: auto (default) "
                        "makes a journaled ext4 when the temp dir is on ext4 without a journal "
                        "(lib/scratch.py); temp keeps them in the temp dir whatever it is")
    p.add_argument("--baseline-build", metavar="DIR",
                   help="another build dir (e.g. of an older commit): raw_exec and exec_runc "
                        "run its agent as one more interleaved side, with the ratio to it; "
                        "script_checks and checked_at_rest measure it after this build's")
    args = p.parse_args()
    names = args.names or ALL
    for n in names:
        if n not in ALL:
            p.error(f"unknown benchmark {n!r}; known: {', '.join(ALL)}")
    ctx = Context(args)
    if not args.build_type:
        args.build_type = build_type_of(args.build_dir)
    head = [f"# drover benchmarks, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}", "",
            machine.describe(args.build_type), "",
            f"runs per side: {args.runs} (after 2 warm-up rounds); tasks (N): {args.n}", ""]
    probe = machine.attach_probe()
    if probe:
        head += [f"cgroup attach (first cgroup.procs write of a new process): "
                 f"{probe[0]:.2f} ms median of 5, {probe[1]}", ""]
    if ctx.baseline_dir:
        head += [f"baseline build: {ctx.baseline_dir} ({machine.build_commit(ctx.baseline_dir)})", ""]
    with contextlib.ExitStack() as stack:
        own = None
        temp = tempfile.gettempdir()
        if args.scratch == "auto" and NODE.intersection(names) and scratch.needs_own_fs(temp):
            own = stack.enter_context(scratch.journaled())
        where = f"the temp dir {scratch.describe(temp)}, mkdir {scratch.mkdir_us(temp):.0f} us"
        if own:
            where = (f"{scratch.describe(own)}, mkdir {scratch.mkdir_us(own):.0f} us, made for "
                     f"this run because {where} (lib/scratch.py)")
        head += [f"agents' files (node benchmarks): {where}", ""]
        return run_all(args, ctx, names, head, own)


def run_all(args, ctx, names, head, own):
    print("\n".join(head), flush=True)
    parts = list(head)
    failed = False
    for n in names:
        tempfile.tempdir = own if own and n in NODE else None
        t0, load0 = time.monotonic(), machine.load()
        mod = importlib.import_module(f"benchmarks.{n}")
        try:
            text = mod.run(ctx)
        except Exception as e:  # one benchmark's failure must not hide the others' tables
            failed = True
            where = traceback.extract_tb(e.__traceback__)[-1]
            text = (f"## {n}\n\nFAILED: {type(e).__name__}: {e} "
                    f"(at {os.path.basename(where.filename)}:{where.lineno})\n")
            traceback.print_exc()
        text += (f"\n_{n} took {time.monotonic() - t0:.0f} s; load average before "
                 f"{load0}, after {machine.load()}_\n")
        print(text, flush=True)
        parts.append(text)
        if args.out:
            with open(args.out, "w") as f:
                f.write("\n".join(parts) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
