/* The per-start cost of putting a new process into its cgroup v2, the two ways
 * drover-monitor can (monitor/README.md, "Cgroups"): fork, then write the child's pid to
 * cgroup.procs (a migration), against clone3(CLONE_INTO_CGROUP) (born there). Each round
 * times fork/clone3 until the child is in the cgroup and told to go on (as task.c does),
 * then reaps it off the clock; the two ways alternate. Run as root on a v2 hierarchy:
 *   cgroup_attach_bench [ROUNDS] [CGROUP_ROOT]        (1000, /sys/fs/cgroup)
 * Prints a markdown table with the cgroup2 mount's favordynmods state. */
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

/* One start: returns the microseconds until the child is placed and released. */
static double one_start(int use_clone3, int cgroup_fd, const char *procs) {
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) != 0) exit(1);
  double t0 = now_us();
  pid_t pid;
  if (use_clone3) {
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
    fprintf(stderr, "%s: %s\n", use_clone3 ? "clone3" : "fork", strerror(errno));
    exit(1);
  }
  if (pid == 0) {
    char go;
    close(sync[1]);
    _exit(read(sync[0], &go, 1) == 1 ? 0 : 1);
  }
  close(sync[0]);
  if (!use_clone3) {
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    char num[32];
    int n = snprintf(num, sizeof num, "%d\n", (int)pid);
    if (fd < 0 || write(fd, num, (size_t)n) != n) {
      fprintf(stderr, "write %s: %s\n", procs, strerror(errno));
      exit(1);
    }
    close(fd);
  }
  if (write(sync[1], "g", 1) != 1) exit(1);
  double t1 = now_us();
  close(sync[1]);
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) exit(1);
  return t1 - t0;
}

static void row(const char *name, double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  printf("| %s | %.1f | %.1f | %.1f |\n", name, v[n / 2], v[n * 9 / 10], v[n * 99 / 100]);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 1000;
  const char *root = argc > 2 ? argv[2] : "/sys/fs/cgroup";
  if (rounds < 10) rounds = 10;
  char dir[4096], procs[4200];
  snprintf(dir, sizeof dir, "%s/drover-attach-bench-%d", root, (int)getpid());
  snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
  if (mkdir(dir, 0755) != 0) {
    fprintf(stderr, "mkdir %s: %s (root on a cgroup v2 hierarchy?)\n", dir, strerror(errno));
    return 1;
  }
  int cgroup_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  double *procs_us = calloc((size_t)rounds, sizeof(double));
  double *clone_us = calloc((size_t)rounds, sizeof(double));
  for (int i = 0; i < 20; ++i) one_start(i & 1, cgroup_fd, procs); /* warm-up */
  for (int i = 0; i < rounds; ++i) {
    procs_us[i] = one_start(0, cgroup_fd, procs);
    clone_us[i] = one_start(1, cgroup_fd, procs);
  }
  char mounts[65536] = "";
  FILE *f = fopen("/proc/self/mounts", "r");
  if (f) {
    size_t n = fread(mounts, 1, sizeof mounts - 1, f);
    mounts[n] = '\0';
    fclose(f);
  }
  printf("cgroup2 favordynmods: %s; %d rounds each, interleaved\n\n",
         strstr(mounts, "favordynmods") ? "on" : "off", rounds);
  printf("| start → placed in the cgroup | median µs | p90 µs | p99 µs |\n|---|---|---|---|\n");
  row("fork + cgroup.procs write", procs_us, rounds);
  row("clone3(CLONE_INTO_CGROUP)", clone_us, rounds);
  rmdir(dir);
  return 0;
}
