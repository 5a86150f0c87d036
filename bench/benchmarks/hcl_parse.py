# hcl_parse: reading a 1,000-line HCL job file (variables, locals, for expressions, heredocs
# with directives, function calls), by stage, in-process (bench/hcl/hcl_parse_bench.cpp);
# issue 17's target is under 5 ms for the whole read.
import json
import os
import subprocess

from lib.report import Report, stat_row, verdict


def run(ctx):
    exe = os.path.join(ctx.build_dir, "bench", "drover_bench_hcl")
    if not os.path.exists(exe):
        subprocess.run(["ninja", "-C", ctx.build_dir, "drover_bench_hcl"], check=True,
                       stdout=subprocess.DEVNULL)
    out = json.loads(subprocess.run([exe, "--runs", str(max(ctx.runs, 50))], check=True,
                                    capture_output=True, text=True).stdout)
    rep = Report(f"hcl_parse: a {out['lines']}-line HCL job file ({out['bytes']} bytes)")
    rows = []
    for name, times in out["stages"].items():
        rows.append(stat_row(name, times, "ms"))
    rep.add_table(["stage", "runs", "min", "median", "max"], rows)
    whole = sorted(out["stages"]["parse_job (with validation)"])
    median = whole[len(whole) // 2]
    rep.note(f"Target (issue 17): parse_job of a 1,000-line file under 5 ms: median "
             f"{median:.2f} ms, {verdict(median < 5.0)}.")
    return rep.text()
