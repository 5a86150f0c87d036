# docker: /bin/true in drover-test/busybox through the agent's docker driver, against
# `docker run --rm`, against a bare Engine API create + start + wait, and against the same
# calls making the very container drover makes (its binds, limits, cgroup parent, env and
# labels), interleaved. The last side splits drover's ratio into what its container costs
# dockerd and what drover's own path costs.
import json
import subprocess
import time
import urllib.parse

from lib import ab, docker_api, settle
from lib.agent import Agent, job_doc
from lib.report import Report
from lib.task_timing import QuietClient, drover_once

IMAGE = "drover-test/busybox:latest"


def docker_run_rm():
    t0 = time.perf_counter_ns()
    subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, "/bin/true"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    return None, (time.perf_counter_ns() - t0) / 1e6


BARE = {"Image": IMAGE, "Cmd": ["/bin/true"], "HostConfig": {"NetworkMode": "none"}}

# What drover's create body sets, read back from a container it made (inspect shows every
# field with docker's defaults filled in; these are the ones the driver writes).
DROVER_FIELDS = ("Binds", "Memory", "MemorySwap", "MemoryReservation", "CpuShares", "PidsLimit",
                 "CgroupParent", "CapDrop", "CapAdd", "LogConfig", "NetworkMode", "RestartPolicy")


def drovers_container(agent):
    """The create body of the container drover makes for the benchmark's task: a long-running
    copy of the task is started and inspected, and left running so that the binds' sources and
    the cgroup parent stay in place for the side that reuses them (stopped by the caller)."""
    jid = "bench-docker-body"
    doc = job_doc(jid, "docker", {"image": IMAGE, "network_mode": "none",
                                  "command": "/bin/sleep", "args": ["3600"]},
                  memory=32, job_type="service")
    agent.submit(doc)
    filters = urllib.parse.quote(json.dumps({"label": [f"com.drover.job_id={jid}"]}))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, found = docker_api.call("GET", f"/containers/json?filters={filters}")
        if found:
            _, c = docker_api.call("GET", f"/containers/{found[0]['Id']}/json")
            host = {k: c["HostConfig"][k] for k in DROVER_FIELDS if c["HostConfig"].get(k)}
            # Its labels renamed: with drover's own, the driver's reaper could take these
            # containers for ones it lost.
            labels = {"bench." + k: v for k, v in (c["Config"]["Labels"] or {}).items()}
            return jid, {"Image": IMAGE, "Cmd": ["/bin/true"], "Env": c["Config"]["Env"],
                         "Labels": labels, "HostConfig": host}
        time.sleep(0.05)
    raise RuntimeError("drover's docker task did not start within 60 s")


def engine_api(body=BARE):
    conn = docker_api.UnixHTTPConnection(docker_api.SOCKET)
    t0 = time.perf_counter_ns()
    st, body = docker_api.call("POST", "/containers/create", body, conn=conn)
    if st != 201:
        raise RuntimeError(f"create: {st} {body}")
    cid = body["Id"]
    docker_api.call("POST", f"/containers/{cid}/start", conn=conn)
    t1 = time.perf_counter_ns()
    docker_api.call("POST", f"/containers/{cid}/wait", conn=conn)
    t2 = time.perf_counter_ns()
    docker_api.call("DELETE", f"/containers/{cid}?force=1", conn=conn)  # untimed
    conn.close()
    return (t1 - t0) / 1e6, (t2 - t0) / 1e6


def run(ctx):
    rep = Report("docker: /bin/true through the docker driver vs `docker run --rm` vs the Engine API")
    agent = Agent(ctx.build_dir)
    seq = [0]
    try:
        agent.start()
        quiet = QuietClient()  # keeps still through the start it times (lib/task_timing.py)

        def drover():
            seq[0] += 1
            jid = f"bench-docker-{seq[0]}"
            doc = job_doc(jid, "docker", {"image": IMAGE, "network_mode": "none",
                                          "command": "/bin/true"}, memory=32)
            return drover_once(agent, doc, jid, quiet=quiet)

        held_job, drover_body = drovers_container(agent)
        sides = [("drover docker", drover), ("docker run --rm", docker_run_rm),
                 ("Engine API", engine_api),
                 ("Engine API, drover's container", lambda: engine_api(drover_body))]
        shared = lambda: [agent.proc.pid] + settle.pids_named("dockerd", "containerd")
        res = ab.interleave(settle.after_each(sides, shared), ctx.runs)
        agent.request("DELETE", f"/v1/job/{held_job}")
    finally:
        agent.shutdown()
    bases = ["docker run --rm", "Engine API", "Engine API, drover's container"]
    hdr = ["measure", "runs", "min", "median", "max", "ratio to docker run --rm",
           "ratio to Engine API", "ratio to Engine API, drover's container"]
    rep.add_table(hdr, ab.rows(res, bases, "started") + ab.rows(res, bases, "exit"))
    d = ab.median(res, "drover docker", "exit")
    r = ab.median(res, "docker run --rm", "exit")
    e = ab.median(res, "Engine API", "exit")
    rep.add_table(["target (medians)", "limit", "measured", "verdict"], [
        ["docker submit → exit faster than docker run --rm", f"< {r:.0f} ms", f"{d:.0f} ms",
         "met" if d < r else "**missed**"],
        ["docker submit → exit within 1.05× of the bare Engine API (issue 22)",
         f"≤ {1.05 * e:.0f} ms", f"{d:.0f} ms ({d / e:.2f}×)",
         "met" if d <= 1.05 * e else "**missed**"],
    ])
    rep.note("`docker run --rm` is timed from spawn to exit of the CLI (it includes the removal "
             "the CLI waits for); the Engine API sides are create → start (= Started) → wait "
             "(= exit), their DELETE untimed. The drover side's Started is the task event's time. "
             "\"drover's container\" makes, through the bare calls, the container drover makes "
             "(read back from one it made: its binds of /alloc, /local and /secrets, memory limit, "
             "CPU shares, cgroup parent, env and labels). After each side the benchmark waits, "
             "untimed, until the agent, dockerd and containerd stop spending CPU "
             "(lib/settle.py).")
    return rep.text()
