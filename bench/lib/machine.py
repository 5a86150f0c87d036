# What the machine is: cores, CPU, memory, kernel, cgroup mode; printed above every table.
import os
import platform
import subprocess
import time


def cgroup_mode():
    # v2 when the root is cgroup2; hybrid when v1 controllers sit beside a unified mount.
    with open("/proc/mounts") as f:
        mounts = [line.split() for line in f]
    root = [m for m in mounts if m[1] == "/sys/fs/cgroup"]
    if root and root[-1][2] == "cgroup2":
        return "v2 (unified)"
    if any(m[2] == "cgroup2" for m in mounts):
        return "v1 (hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified)"
    return "v1 (legacy)"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 0


def describe(build_type):
    return (f"machine: {os.cpu_count()} cores ({cpu_model()}), {mem_total_mib()} MiB RAM, "
            f"kernel {platform.release()}, cgroups {cgroup_mode()}, drover build {build_type}, "
            f"load average at start {load()}")


def load():
    """The 1/5/15-minute load averages: other work on the machine skews every timing."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def build_commit(build_dir):
    """The commit a build dir was configured from (its CMakeCache's source dir), for the
    table header; "unknown" when that cannot be told."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            src = next(line.split("=", 1)[1].strip() for line in f
                       if line.startswith("CMAKE_HOME_DIRECTORY:"))
        out = subprocess.run(["git", "-C", src, "log", "-1", "--format=%h %ad", "--date=short"],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, StopIteration, subprocess.CalledProcessError):
        return "unknown"


def attach_probe(samples=5):
    """The median time (ms) of a cgroup.procs write of a new process made 0.1 s after the last
    one, and what it says. Without favordynmods that write waits for an RCU grace period
    (cgroup_threadgroup_rwsem in its slow mode; 10-19 ms on a freshly booted CI VM), unless
    another write came less than a grace period before it: samples closer together read fast
    on a slow kernel, hence the pause. With favordynmods it takes well under a millisecond.
    raw_exec's v1 start no longer pays it (docs/cgroups.md, "Joining without the global lock"),
    exec's and docker's runtimes do, so the header names it. None when no cgroup can be made
    here (not root)."""
    v2 = cgroup_mode().startswith("v2")
    base = "/sys/fs/cgroup" if v2 else "/sys/fs/cgroup/pids"
    probe = os.path.join(base, f"drover-bench-attach-{os.getpid()}")
    try:
        os.mkdir(probe)
    except OSError:
        return None
    times = []
    try:
        for _ in range(samples):
            p = subprocess.Popen(["sleep", "30"])
            time.sleep(0.1)  # the last write's grace period over
            try:
                with open(os.path.join(probe, "cgroup.procs"), "w") as f:
                    t0 = time.perf_counter_ns()
                    f.write(str(p.pid))
                    f.flush()
                    times.append((time.perf_counter_ns() - t0) / 1e6)
            finally:
                p.kill()
                p.wait()
    except OSError:
        return None
    finally:
        for _ in range(100):  # a killed process leaves the cgroup a moment after wait()
            try:
                os.rmdir(probe)
                break
            except OSError:
                time.sleep(0.01)
    times.sort()
    median = times[len(times) // 2]
    mode = ("slow: a cgroup.procs write waits for an RCU grace period, as on a fresh boot "
            "(exec's and docker's runtimes pay it; raw_exec's v1 start does not)" if median >= 1.0
            else "fast: cgroup_threadgroup_rwsem in favordynmods mode")
    return median, mode
