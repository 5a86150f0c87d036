# memory: private (USS) and proportional (PSS) memory of each task's drover-monitor, against
# containerd's shim and podman's conmon for an equivalent container; agent RSS idle, with 100
# and with N running sleep tasks.
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from lib import docker_api, procfs
from lib.agent import Agent, job_doc
from lib.report import Report, fmt, stat_row, verdict

IMAGE = "drover-test/busybox:latest"
SLEEP = {"command": "/bin/sleep", "args": ["3600"]}


def uss_pss(pids):
    uss, pss = [], []
    for p in pids:
        try:
            u, s = procfs.uss_pss_kib(p)
        except OSError:
            continue
        uss.append(u)
        pss.append(s)
    return uss, pss


def shim_memory(k):
    """Runs k sleep containers through dockerd (containerd-shim-runc-v2, one per container);
    returns (uss list, pss list) of their shims, or a reason string."""
    if not docker_api.available():
        return "dockerd is not running (run tests/drivers/docker/docker_fixture.sh)"
    ids = []
    try:
        for _ in range(k):
            st, body = docker_api.call("POST", "/containers/create", {
                "Image": IMAGE, "Cmd": ["sleep", "3600"], "Labels": {"drover-bench": str(os.getpid())},
                "HostConfig": {"NetworkMode": "none"}})
            if st != 201:
                return f"docker create failed: {st} {body}"
            ids.append(body["Id"])
            docker_api.call("POST", f"/containers/{body['Id']}/start")
        time.sleep(2)
        shims = []
        for cid in ids:
            shims += procfs.pids_with_arg("containerd-shim-runc-v2", cid)
        if not shims:
            return "no containerd-shim-runc-v2 process found for the containers"
        return uss_pss(shims)
    finally:
        for cid in ids:
            try:
                docker_api.call("DELETE", f"/containers/{cid}?force=1")
            except OSError:
                pass
        # Also by label: a dockerd restarted meanwhile leaves ids we never got back.
        docker_api.remove_by_label("drover-bench", str(os.getpid()))


def conmon_reason():
    """conmon needs to run before it can be measured; say exactly why it cannot here."""
    if not shutil.which("conmon"):
        return "conmon not installed (bench/run.sh installs it: apt-get install conmon)"
    d = tempfile.mkdtemp(prefix="drover-bench-conmon-")
    try:
        r = subprocess.run(["strace", "-f", "-e", "trace=write", "-o", f"{d}/st", "conmon",
                            "--api-version", "1", "--sync", "-c", "x", "-u", "x", "-n", "x",
                            "-r", shutil.which("runc") or "/usr/sbin/runc", "-b", d,
                            "-p", f"{d}/pid", "--exit-dir", d, "-l", f"k8s-file:{d}/log"],
                           capture_output=True, text=True, timeout=20) if shutil.which("strace") else None
        if r is not None:
            with open(f"{d}/st") as f:
                trace = f.read()
            if "EACCES" in trace and '"-1000"' in trace:
                return ("conmon exits (status 1) before starting the container: its write of -1000 to "
                        "/proc/self/oom_score_adj is refused with EACCES in this VM, even as root")
        return None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run(ctx):
    rep = Report("memory: task monitor per task vs containerd shim and conmon; agent RSS")
    n = ctx.n
    agent = Agent(ctx.build_dir)
    rows_agent, mon100, monN = [], None, None
    try:
        agent.start()
        time.sleep(2)
        rows_agent.append(["agent RSS, idle", fmt(agent.rss_kib() / 1024, "MiB"), "<= 20 MiB",
                           verdict(agent.rss_kib() / 1024 <= 20)])
        first = min(100, n)
        agent.submit(job_doc("bench-mem-a", "raw_exec", SLEEP, count=first, job_type="service"))
        agent.wait_running(first)
        time.sleep(2)
        rss = agent.rss_kib() / 1024
        rows_agent.append([f"agent RSS, {first} tasks ({procfs.threads(agent.pid)} threads)",
                           fmt(rss, "MiB"), "", ""])
        mon100 = uss_pss(agent.monitor_pids())
        if n > first:
            left = n - first
            i = 0
            while left > 0:  # a group's count is at most 1000
                c = min(left, 1000)
                agent.submit(job_doc(f"bench-mem-b{i}", "raw_exec", SLEEP, count=c, job_type="service"))
                left -= c
                i += 1
            agent.wait_running(n)
            time.sleep(2)
            rss = agent.rss_kib() / 1024
            rows_agent.append([f"agent RSS, {n} tasks ({procfs.threads(agent.pid)} threads)", fmt(rss, "MiB"),
                               "<= 80 MiB" + ("" if n >= 1000 else " (at 1000)"),
                               verdict(rss <= 80) if n >= 1000 else "n/a (N < 1000)"])
            monN = uss_pss(agent.monitor_pids())
    finally:
        agent.shutdown()
    k = min(n, 100)
    try:
        shim = shim_memory(k)
    except OSError as e:  # dockerd went away under us (another user restarted it?)
        shim = f"dockerd did not answer: {e}"
    conmon = conmon_reason()
    hdr = ["process (KiB per task)", "tasks", "USS min", "USS median", "USS max", "PSS median"]
    rows = []
    for label, m in ((f"drover-monitor ({min(100, n)} tasks)", mon100), (f"drover-monitor ({n} tasks)", monN)):
        if m and m[0]:
            rows.append([label, str(len(m[0])), fmt(min(m[0])), fmt(statistics.median(m[0])),
                         fmt(max(m[0])), fmt(statistics.median(m[1]))])
    if isinstance(shim, str):
        rows.append([f"containerd-shim-runc-v2", "—", shim, "", "", ""])
    else:
        rows.append([f"containerd-shim-runc-v2 (docker, {k} containers)", str(len(shim[0])),
                     fmt(min(shim[0])), fmt(statistics.median(shim[0])), fmt(max(shim[0])),
                     fmt(statistics.median(shim[1]))])
    rows.append(["conmon (podman's monitor)", "—", conmon or "measured nowhere: conmon ran but "
                 "this benchmark does not drive it yet", "", "", ""])
    rep.add_table(hdr, rows)
    med_uss = statistics.median((monN or mon100)[0]) if (monN or mon100) and (monN or mon100)[0] else None
    rep.add_table(["target", "measured", "limit", "verdict"], rows_agent + [
        ["drover-monitor USS per task (median)", fmt(med_uss, "KiB"), "<= 512 KiB",
         verdict(None if med_uss is None else med_uss <= 512)]])
    rep.note("USS = Private_Clean + Private_Dirty and PSS from /proc/PID/smaps_rollup, read 2 s "
             "after every task runs. Tasks are raw_exec `sleep 3600` (memory 10 MB, cpu 1 MHz). "
             "The shim figures come from k containers started through the dockerd that "
             "docker_fixture.sh runs; PSS falls as more copies share pages, so compare PSS at "
             "similar counts.")
    return rep.text()
