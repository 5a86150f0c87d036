# Process facts from /proc: CPU seconds, RSS, USS/PSS (smaps_rollup), children, start time.
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # comm may hold spaces and parens: split after the last ')'.
    return data[data.rindex(")") + 2:].split()


def cpu_seconds(pid):
    """utime + stime of a process (its own threads, not waited-for children)."""
    f = _stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK


def minor_faults(pid):
    """Minor page faults of a process's own threads (a copy-on-write after a fork is one)."""
    return int(_stat_fields(pid)[7])


def start_ticks(pid):
    return int(_stat_fields(pid)[19])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def uss_pss_kib(pid):
    """(USS, PSS) in KiB: private clean+dirty, and proportional set size."""
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                try:
                    vals[parts[0][:-1]] = int(parts[1])
                except ValueError:
                    pass
    return vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0), vals.get("Pss", 0)


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def pids_with_arg(binary_suffix, arg_substring):
    """PIDs whose argv[0] ends with binary_suffix and whose argv contains arg_substring."""
    found = []
    needle = arg_substring.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        argv = cmdline(int(d))
        if argv and argv[0].endswith(binary_suffix.encode()) and any(needle in a for a in argv):
            found.append(int(d))
    return found


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def soft_nofile(pid):
    """The process's soft RLIMIT_NOFILE, from /proc/PID/limits."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 0
