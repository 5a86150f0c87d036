# Where the node benchmarks' agents keep their files (data dir, alloc and task dirs, logs).
# A node's data dir (/var/lib/drover) sits on a journaled filesystem (ext4, xfs). Some VMs,
# CI's among them, run ext4 without a journal, and there each new inode is found by scanning
# past every inode freed in the last minute or more (the kernel's find_inode_bit ->
# recently_deleted, which runs only without a journal): after a test run or a benchmark that
# removed a few thousand files, a mkdir below /tmp took ~100 us instead of ~13 us, and
# raw_exec's submit -> Started read 6.7 ms instead of 2.8 ms (bench/results/2026-12-05-scratch-fs.md).
# Such a figure measures the VM's last minutes, not drover: on such a filesystem the agents'
# files go to a journaled ext4 made for the run (a sparse image on the same disk, loop-mounted),
# and the header says which, with what a mkdir costs on each.
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def _mount_of(path):
    """(mount point, fs type, source) of the mount holding path, from /proc/self/mountinfo."""
    path = os.path.realpath(path)
    best = ("/", "unknown", "unknown")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            point = left.split()[4].replace("\\040", " ")
            fstype, source = right.split()[:2]
            inside = path == point or path.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best[0]):
                best = (point, fstype, source)
    return best


def has_journal(source):
    """Whether the ext4 on `source` (/dev/vda, /dev/loop0) runs a journal: jbd2 lists each
    journal it runs as /proc/fs/jbd2/<device>-<inode>."""
    dev = os.path.basename(os.path.realpath(source))
    try:
        return any(e.startswith(dev + "-") for e in os.listdir("/proc/fs/jbd2"))
    except OSError:
        return False


def describe(path):
    point, fstype, source = _mount_of(path)
    if fstype in ("ext4", "ext3"):
        fstype += " with a journal" if has_journal(source) else " without a journal"
    return f"{path} ({fstype} on {source})"


def mkdir_us(path, n=50):
    """Median microseconds of a mkdir below path (each timed alone, then all removed)."""
    d = tempfile.mkdtemp(prefix="drover-bench-mkdir-", dir=path)
    times = []
    try:
        for i in range(n):
            t0 = time.perf_counter_ns()
            os.mkdir(os.path.join(d, str(i)))
            times.append((time.perf_counter_ns() - t0) / 1e3)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return statistics.median(times)


def needs_own_fs(path):
    _, fstype, source = _mount_of(path)
    return fstype == "ext4" and not has_journal(source)


@contextlib.contextmanager
def journaled(size_gib=4):
    """Yields the mount point of a fresh journaled ext4 (a sparse image in /var/tmp, loop-
    mounted), or None with the reason printed where one cannot be made (not root, no
    mkfs.ext4, no loop device). Unmounted and removed afterwards."""
    work = tempfile.mkdtemp(prefix="drover-bench-fs-", dir="/var/tmp")
    image, point = os.path.join(work, "ext4.img"), os.path.join(work, "mnt")
    mounted = False
    try:
        os.mkdir(point)
        with open(image, "wb") as f:
            f.truncate(size_gib << 30)
        # Inode tables and journal written now: no ext4lazyinit thread zeroing them in the
        # background while the benchmarks run.
        subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                        image], check=True, capture_output=True)
        subprocess.run(["mount", "-o", "loop", image, point], check=True, capture_output=True)
        mounted = True
        os.chmod(point, 0o1777)
    except (OSError, subprocess.CalledProcessError) as e:
        detail = (getattr(e, "stderr", b"") or b"").decode(errors="replace").strip()
        print(f"no journaled scratch filesystem ({e} {detail}); the agents' files stay in "
              "the temp dir", flush=True)
    try:
        yield point if mounted else None
    finally:
        # A task a benchmark left running keeps the mount busy: detach it lazily then, so
        # that rmtree never reaches into a filesystem still mounted.
        if mounted and subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
