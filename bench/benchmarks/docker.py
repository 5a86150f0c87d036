# docker: /bin/true in drover-test/busybox through the agent's docker driver, against
# `docker run --rm` and against a bare Engine API create + start + wait, interleaved.
import subprocess
import time

from lib import ab, docker_api
from lib.agent import Agent, job_doc
from lib.report import Report
from lib.task_timing import drover_once

IMAGE = "drover-test/busybox:latest"


def docker_run_rm():
    t0 = time.perf_counter_ns()
    subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, "/bin/true"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    return None, (time.perf_counter_ns() - t0) / 1e6


def engine_api():
    conn = docker_api.UnixHTTPConnection(docker_api.SOCKET)
    t0 = time.perf_counter_ns()
    st, body = docker_api.call("POST", "/containers/create",
                               {"Image": IMAGE, "Cmd": ["/bin/true"],
                                "HostConfig": {"NetworkMode": "none"}}, conn=conn)
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

        def drover():
            seq[0] += 1
            jid = f"bench-docker-{seq[0]}"
            doc = job_doc(jid, "docker", {"image": IMAGE, "network_mode": "none",
                                          "command": "/bin/true"}, memory=32)
            return drover_once(agent, doc, jid)

        res = ab.interleave([("drover docker", drover), ("docker run --rm", docker_run_rm),
                             ("Engine API", engine_api)], ctx.runs)
    finally:
        agent.shutdown()
    bases = ["docker run --rm", "Engine API"]
    hdr = ["measure", "runs", "min", "median", "max", "ratio to docker run --rm", "ratio to Engine API"]
    rep.add_table(hdr, ab.rows(res, bases, "started") + ab.rows(res, bases, "exit"))
    d = ab.median(res, "drover docker", "exit")
    r = ab.median(res, "docker run --rm", "exit")
    rep.add_table(["target (medians)", "limit", "measured", "verdict"], [
        ["docker submit → exit faster than docker run --rm", f"< {r:.0f} ms", f"{d:.0f} ms",
         "met" if d < r else "**missed**"],
    ])
    rep.note("`docker run --rm` is timed from spawn to exit of the CLI (it includes the removal "
             "the CLI waits for); the Engine API side is create → start (= Started) → wait "
             "(= exit), its DELETE untimed. The drover side's Started is the task event's time.")
    return rep.text()
