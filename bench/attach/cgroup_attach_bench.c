/* The per-start cost of putting a new process into its cgroup, the ways drover-monitor can
 * (monitor/README.md, "Cgroups"): fork, then write the child's pid to cgroup.procs (a
 * migration under the kernel's global cgroup_threadgroup_rwsem); on v2 against
 * clone3(CLONE_INTO_CGROUP) (born there); on v1 against the child writing "0" into the
 * cgroup's tasks file (a thread moving itself: no global lock; docs/cgroups.md, "Joining
 * without the global lock"). Each round times fork/clone3 until the child runs in its cgroup
 * (it writes a byte its parent reads: a start's task must run anyway), then reaps it off the
 * clock; the ways alternate. GAP_MS
 * waits between rounds: writes closer together than an RCU grace period share one wait, so a
 * gap of 50 ms shows what a node starting one task at a time pays. Run as root:
 *   cgroup_attach_bench [ROUNDS] [CGROUP_ROOT] [GAP_MS]    (1000, /sys/fs/cgroup, 0)
 * CGROUP_ROOT is a v2 hierarchy or one v1 hierarchy (say /sys/fs/cgroup/pids). Prints a
 * markdown table with the cgroup2 mount's favordynmods state. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

enum way { PROCS, CLONE3, TASKS };

/* One start: returns the microseconds until the child runs in its cgroup. */
static double one_start(enum way way, int cgroup_fd, const char *procs, const char *tasks) {
  int sync[2], placed[2];
  if (pipe2(sync, O_CLOEXEC) != 0 || pipe2(placed, O_CLOEXEC) != 0) exit(1);
  double t0 = now_us();
  pid_t pid;
  if (way == CLONE3) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  } else {
    pid = fork();
  }
  if (pid < 0) {
    fprintf(stderr, "%s: %s\n", way == CLONE3 ? "clone3" : "fork", strerror(errno));
    exit(1);
  }
  if (pid == 0) {
    char go;
    close(sync[1]);
    if (way == TASKS) { /* the child moves itself, then says so */
      int fd = open(tasks, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0", 1) != 1) _exit(2);
      if (write(placed[1], "p", 1) != 1) _exit(3);
      _exit(0);
    }
    if (read(sync[0], &go, 1) != 1) _exit(1); /* placed by its parent (or born there) */
    _exit(write(placed[1], "p", 1) == 1 ? 0 : 3);
  }
  close(sync[0]);
  close(placed[1]);
  if (way == PROCS) {
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    char num[32];
    int n = snprintf(num, sizeof num, "%d\n", (int)pid);
    if (fd < 0 || write(fd, num, (size_t)n) != n) {
      fprintf(stderr, "write %s: %s\n", procs, strerror(errno));
      exit(1);
    }
    close(fd);
  }
  char p;
  if (way != TASKS && write(sync[1], "g", 1) != 1) exit(1);
  if (read(placed[0], &p, 1) != 1) exit(1); /* the child runs, in its cgroup */
  double t1 = now_us();
  close(sync[1]);
  close(placed[0]);
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "the child failed to place itself\n");
    exit(1);
  }
  return t1 - t0;
}

static void row(const char *name, double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  printf("| %s | %.1f | %.1f | %.1f |\n", name, v[n / 2], v[n * 9 / 10], v[n * 99 / 100]);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 1000;
  const char *root = argc > 2 ? argv[2] : "/sys/fs/cgroup";
  int gap_ms = argc > 3 ? atoi(argv[3]) : 0;
  if (rounds < 10) rounds = 10;
  struct statfs sfs;
  if (statfs(root, &sfs) != 0) {
    fprintf(stderr, "%s: %s\n", root, strerror(errno));
    return 1;
  }
  const int v2 = sfs.f_type == CGROUP2_SUPER_MAGIC;
  const enum way other = v2 ? CLONE3 : TASKS;
  char dir[4096], procs[4200], tasks[4200];
  snprintf(dir, sizeof dir, "%s/drover-attach-bench-%d", root, (int)getpid());
  snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
  snprintf(tasks, sizeof tasks, "%s/tasks", dir);
  if (mkdir(dir, 0755) != 0) {
    fprintf(stderr, "mkdir %s: %s (root, on a cgroup hierarchy?)\n", dir, strerror(errno));
    return 1;
  }
  if (!v2) { /* a v1 cpuset cgroup takes no task until it has cpus and mems */
    char src[4200], dst[4200], buf[256];
    for (const char *const *f = (const char *const[]){"cpuset.cpus", "cpuset.mems", NULL}; *f; ++f) {
      snprintf(src, sizeof src, "%s/%s", root, *f);
      snprintf(dst, sizeof dst, "%s/%s", dir, *f);
      int in = open(src, O_RDONLY), out = open(dst, O_WRONLY);
      ssize_t n = in >= 0 ? read(in, buf, sizeof buf) : -1;
      if (n > 0 && out >= 0) (void)!write(out, buf, (size_t)n);
      if (in >= 0) close(in);
      if (out >= 0) close(out);
    }
  }
  int cgroup_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  double *procs_us = calloc((size_t)rounds, sizeof(double));
  double *other_us = calloc((size_t)rounds, sizeof(double));
  const struct timespec gap = {gap_ms / 1000, (long)(gap_ms % 1000) * 1000000L};
  for (int i = 0; i < 20; ++i) one_start(i & 1 ? other : PROCS, cgroup_fd, procs, tasks); /* warm-up */
  for (int i = 0; i < rounds; ++i) {
    if (gap_ms > 0) nanosleep(&gap, NULL);
    procs_us[i] = one_start(PROCS, cgroup_fd, procs, tasks);
    if (gap_ms > 0) nanosleep(&gap, NULL);
    other_us[i] = one_start(other, cgroup_fd, procs, tasks);
  }
  char mounts[65536] = "";
  FILE *f = fopen("/proc/self/mounts", "r");
  if (f) {
    size_t n = fread(mounts, 1, sizeof mounts - 1, f);
    mounts[n] = '\0';
    fclose(f);
  }
  printf("%s, cgroup2 favordynmods: %s; %d rounds each, interleaved, %d ms apart\n\n", root,
         strstr(mounts, "favordynmods") ? "on" : "off", rounds, gap_ms);
  printf("| start → placed in the cgroup | median µs | p90 µs | p99 µs |\n|---|---|---|---|\n");
  row("fork + cgroup.procs write", procs_us, rounds);
  row(v2 ? "clone3(CLONE_INTO_CGROUP)" : "fork + the child writes 0 into tasks", other_us, rounds);
  rmdir(dir);
  return 0;
}
