/* drover-monitor: starting the task (own session, in its cgroups before its first
 * instruction, as its user, in its dir, with exactly its env) and signalling all of it.
 * On cgroup v2 the task is born in its cgroup (clone3 with CLONE_INTO_CGROUP): no migration,
 * so no start waits for the kernel's cgroup_threadgroup_rwsem (an RCU grace period without
 * favordynmods). On v1 the child moves itself into each cgroup before its exec, through the
 * `tasks` file, which does not wait for that lock either (join_cgroup_v1). Either way it is
 * made with CLONE_VM (no page tables copied, no copy-on-write faults after). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <sched.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"

enum stage { STAGE_CGROUP = 1, STAGE_USER, STAGE_CHDIR, STAGE_STDIO, STAGE_EXEC };
struct failure {
  int stage;
  int err;
  int index; /* STAGE_CGROUP: which --cgroup-procs file */
};

static const char *env_path(char **envp) {
  for (char **e = envp; *e; ++e)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return "/usr/local/bin:/usr/bin:/bin";
}

/* Like execvp, but searching the task's PATH (not the monitor's): skips entries where the
 * file is missing, remembers EACCES. Returns the errno to report. */
static int exec_search(char **argv, char **envp) {
  const char *cmd = argv[0];
  if (strchr(cmd, '/') != NULL)
    return (int)-sys_raw(SYS_execve, (long)cmd, (long)argv, (long)envp, 0);
  char path[4096];
  int err = ENOENT, saw_eacces = 0;
  const char *p = env_path(envp);
  for (;;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int n = len == 0 ? snprintf(path, sizeof path, "./%s", cmd)
                     : snprintf(path, sizeof path, "%.*s/%s", (int)len, p, cmd);
    if (n > 0 && (size_t)n < sizeof path) {
      err = (int)-sys_raw(SYS_execve, (long)path, (long)argv, (long)envp, 0);
      if (err == EACCES) saw_eacces = 1;
      else if (err != ENOENT && err != ENOTDIR) return err;
    }
    if (end == NULL) break;
    p = end + 1;
  }
  return (saw_eacces && (err == ENOENT || err == ENOTDIR)) ? EACCES : err;
}

static void child_fail(int fd, int stage, long err, int index) {
  struct failure f = {stage, (int)err, index};
  sys_raw(SYS_write, fd, (long)&f, sizeof f, 0);
  _exit(127);
}

/* This process into a cgroup: "0" names the writer (cgroup-v1/cgroups.rst, cgroup-v2.rst).
 * 0 or an errno. */
static long join_cgroup(const char *procs) {
  long fd = sys_raw(SYS_openat, AT_FDCWD, (long)procs, O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) return -fd;
  long w = sys_raw(SYS_write, fd, (long)"0", 1, 0);
  sys_raw(SYS_close, fd, 0, 0, 0);
  return w == 1 ? 0 : w < 0 ? -w : EIO;
}

/* A v1 cgroup joined by this process's only thread writing "0" into the cgroup's `tasks`
 * file: a single thread moving itself skips the global cgroup_threadgroup_rwsem (the kernel's
 * "cgroup: Optimize single thread migration"), so it never waits for the RCU grace period a
 * cgroup.procs write waits for where favordynmods is off: six joins took 0.1-0.9 ms on a
 * freshly booted CI VM, against 10-19 ms through cgroup.procs (docs/cgroups.md, "Joining
 * without the global lock"). The child is single-threaded until its exec, so the whole
 * process moves. Where there is no `tasks` file (cgroup2) it writes cgroup.procs. */
static long join_cgroup_v1(const char *tasks, const char *procs) {
  if (tasks) {
    long e = join_cgroup(tasks);
    if (e != ENOENT) return e;
  }
  return join_cgroup(procs);
}

/* fd onto `to`, not close-on-exec (as dup2). 0 or -errno. */
static long move_fd(long fd, long to) {
  if (fd == to) return sys_raw(SYS_fcntl, fd, F_SETFD, 0, 0);
  long r = sys_raw(SYS_dup3, fd, to, 0, 0);
  return r < 0 ? r : 0;
}

/* The task's process from its clone to its exec. On x86_64 it shares the monitor's memory
 * (child_stack below), errno included, while the monitor opens the logs and its socket: so it
 * makes its system calls through sys_raw, which neither reads nor writes errno, and writes no
 * memory but its own stack (child_defaults uses libc, but fails at nothing, so sets no errno).
 * It places itself in its cgroups, so it needs nothing more from the monitor. */
static void run_child(const struct task_spec *t, int born_in, const char *const *tasks,
                      int report_wr) {
  child_defaults(); /* its own group: stop and signal reach all of the task, not the monitor */
  for (int i = 0; i < t->nprocs; ++i) /* still root: before the user switch */
    if (i != born_in) {
      long e = join_cgroup_v1(tasks ? tasks[i] : NULL, t->procs[i]);
      if (e != 0) child_fail(report_wr, STAGE_CGROUP, e, i); /* never runs outside them */
    }
  long r;
  if (t->set_user) {
    r = sys_raw(SYS_setgroups, 1, (long)&t->gid, 0, 0);
    if (r == 0) r = sys_raw(SYS_setgid, t->gid, 0, 0, 0);
    if (r == 0) r = sys_raw(SYS_setuid, t->uid, 0, 0, 0);
    if (r != 0) child_fail(report_wr, STAGE_USER, -r, 0);
  }
  r = sys_raw(SYS_chdir, (long)t->dir, 0, 0, 0);
  if (r != 0) child_fail(report_wr, STAGE_CHDIR, -r, 0);
  r = sys_raw(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY, 0);
  if (r >= 0) r = move_fd(r, 0);
  if (r >= 0) r = move_fd(t->out_fd, 1);
  if (r >= 0) r = move_fd(t->err_fd, 2);
  if (r < 0) child_fail(report_wr, STAGE_STDIO, -r, 0);
  close_fds_except(report_wr); /* close-on-exec: its EOF tells the monitor exec worked */
  child_fail(report_wr, STAGE_EXEC, exec_search(t->argv, t->envp), 0);
}

/* The directory of a cgroup.procs file when it lies on cgroup2, opened O_PATH for
 * CLONE_INTO_CGROUP; -1 for a v1 hierarchy (or a file that cannot be reached: the write that
 * follows names the problem). One statfs first. */
static int cgroup2_dir(const char *procs) {
  struct statfs sfs;
  if (statfs(procs, &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) return -1;
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s", procs) >= (int)sizeof dir) return -1;
  return open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

struct child_args {
  const struct task_spec *t;
  int born_in; /* the --cgroup-procs file it was born in (clone3), or -1 */
  const char *const *tasks; /* the `tasks` file beside each (v1), or NULL: cgroup.procs only */
  int report[2];
};

static int child_main(void *p) {
  const struct child_args *a = p;
  sys_raw(SYS_close, a->report[0], 0, 0, 0); /* the monitor's end */
  run_child(a->t, a->born_in, a->tasks, a->report[1]);
  return 127; /* not reached: run_child execs or exits */
}

/* On x86_64 the child runs on this stack, in the monitor's memory (CLONE_VM), as posix_spawn's
 * does, but without CLONE_VFORK: the monitor goes on beside it (the logs, its socket), then
 * waits for the EOF of the report pipe, which the exec closes (README.md says why not vfork's
 * earlier wakeup). Nothing is copied: on CI's VM a fork of the monitor then /bin/true read
 * 1.85 ms, this 1.40 ms (each copy-on-write fault ~18 µs there). task_wait_exec returns only
 * once the report pipe says the child exec'd or exited, and until then the monitor writes
 * nothing the child reads (its fields of *t, their strings, this stack); the monitor is
 * single-threaded. */
static char child_stack[64 * 1024] __attribute__((aligned(16)));
static struct child_args child_args;

void task_prepare(void) {
  memset(&child_args, 0, sizeof child_args);
  ((volatile char *)child_stack)[sizeof child_stack - 1] = 0;
}

/* The child, joining its cgroups itself: sharing memory on x86_64, elsewhere a copy (fork),
 * whose errno is its own. */
static pid_t clone_child(void) {
#if defined(__x86_64__)
  return clone(child_main, child_stack + sizeof child_stack, CLONE_VM | SIGCHLD, &child_args);
#else
  pid_t pid = fork();
  if (pid == 0) child_main(&child_args);
  return pid;
#endif
}

#if defined(__x86_64__)
/* clone3 onto child_stack: the child starts there with nothing to return to, so it calls
 * child_main itself and exits, never going back through C. Neither glibc 2.36 nor musl 1.2
 * wraps clone3. The kernel starts the child at stack + stack_size; that is 16-byte aligned,
 * as the call expects. Returns the pid, or -1 with errno. */
static pid_t clone3_sharing_memory(struct clone_args *args) {
  args->flags |= CLONE_VM;
  args->stack = (uint64_t)(uintptr_t)child_stack;
  args->stack_size = sizeof child_stack;
  register long rax __asm__("rax") = SYS_clone3;
  register long rdi __asm__("rdi") = (long)args;
  register long rsi __asm__("rsi") = (long)sizeof *args;
  register long r12 __asm__("r12") = (long)child_main;
  register long r13 __asm__("r13") = (long)&child_args;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t" /* the child: the bottom frame */
      "mov %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "mov %%eax, %%edi\n\t"
      "mov $60, %%eax\n\t" /* SYS_exit */
      "syscall\n\t"
      "hlt\n"
      "1:"
      : "+r"(rax)
      : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
      : "rcx", "r11", "memory");
  if (rax < 0) {
    errno = (int)-rax;
    return -1;
  }
  return (pid_t)rax;
}
#endif

/* The child born in the cgroup `cgroup_fd`. On x86_64 it shares the monitor's memory, as
 * clone_child's does; elsewhere it is a copy, as after fork, and returns 0 here to run
 * child_main. */
static pid_t clone_into_cgroup(int cgroup_fd) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = (uint64_t)cgroup_fd;
#if defined(__x86_64__)
  return clone3_sharing_memory(&args);
#else
  return (pid_t)syscall(SYS_clone3, &args, sizeof args);
#endif
}

/* The `tasks` file beside each of t's cgroup.procs files, made before the clone (the child
 * allocates nothing); NULL for a path that is not ".../cgroup.procs" or does not fit. */
static char tasks_buf[4096];
static const char *tasks_files[MAX_CGROUP_PROCS];

static const char *const *find_tasks_files(const struct task_spec *t) {
  static const char kProcs[] = "cgroup.procs";
  size_t used = 0;
  for (int i = 0; i < t->nprocs; ++i) {
    tasks_files[i] = NULL;
    size_t n = strlen(t->procs[i]);
    if (n < sizeof kProcs - 1 || strcmp(t->procs[i] + n - (sizeof kProcs - 1), kProcs) != 0)
      continue;
    size_t dir = n - (sizeof kProcs - 1);
    if (used + dir + sizeof "tasks" > sizeof tasks_buf) continue;
    memcpy(tasks_buf + used, t->procs[i], dir);
    memcpy(tasks_buf + used + dir, "tasks", sizeof "tasks");
    tasks_files[i] = tasks_buf + used;
    used += dir + sizeof "tasks";
  }
  return tasks_files;
}

/* What a kernel without clone3 (< 5.3: ENOSYS) or without CLONE_INTO_CGROUP (< 5.7: E2BIG
 * for the longer struct, or EINVAL for the flag) answers. */
static int clone3_unsupported(int err) { return err == ENOSYS || err == E2BIG || err == EINVAL; }

pid_t task_spawn(struct task_spec *t, int *report_fd, char *err, size_t errlen) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  /* Only the first file is asked: the agent passes one file on v2 and only v1 files
   * otherwise (a v1 start used to statfs all six). A v2 file later in a list would still be
   * joined, by its cgroup.procs write. */
  int born_in = -1, cgroup_fd = t->nprocs > 0 ? cgroup2_dir(t->procs[0]) : -1;
  if (cgroup_fd >= 0) born_in = 0;
  snprintf(t->placement, sizeof t->placement, "%s", t->nprocs > 0 ? "tasks" : "none");
  child_args = (struct child_args){t, born_in, born_in < 0 ? find_tasks_files(t) : NULL,
                                   {report[0], report[1]}};
  pid_t pid = -1;
  if (cgroup_fd >= 0) {
    pid = clone_into_cgroup(cgroup_fd);
    int e = errno;
    if (pid == 0) child_main(&child_args); /* clone3's child where it is a copy, as after fork */
    close(cgroup_fd);
    if (pid > 0) {
      snprintf(t->placement, sizeof t->placement, "clone3");
    } else if (clone3_unsupported(e)) {
      snprintf(t->placement, sizeof t->placement, "fallback:%d", e);
      child_args.born_in = -1; /* joins through cgroup.procs: cgroup2 has no tasks file */
    } else {
      snprintf(err, errlen, "cannot start the task in cgroup %s: %s", t->procs[born_in],
               strerror(e));
      close(report[0]);
      close(report[1]);
      return -1;
    }
  }
  if (pid < 0) {
    pid = clone_child();
    if (pid < 0) {
      snprintf(err, errlen, "clone: %s", strerror(errno));
      close(report[0]);
      close(report[1]);
      return -1;
    }
  }
  close(report[1]);
  *report_fd = report[0];
  return pid;
}

int task_wait_exec(const struct task_spec *t, pid_t pid, int report_fd, char *err, size_t errlen) {
  struct failure f;
  ssize_t n;
  do {
    n = read(report_fd, &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  close(report_fd);
  if (n != (ssize_t)sizeof f) return 0;
  waitpid(pid, NULL, 0);
  const char *why = strerror(f.err);
  switch (f.stage) {
    case STAGE_CGROUP:
      snprintf(err, errlen, "cannot place the task in cgroup %s: %s",
               f.index >= 0 && f.index < t->nprocs ? t->procs[f.index] : "?", why);
      break;
    case STAGE_USER:
      snprintf(err, errlen, "cannot switch to the task's user: %s", why);
      break;
    case STAGE_CHDIR:
      snprintf(err, errlen, "cannot enter task dir %s: %s", t->dir, why);
      break;
    case STAGE_EXEC:
      snprintf(err, errlen, "cannot run command \"%s\": %s", t->argv[0], why);
      break;
    default:
      snprintf(err, errlen, "cannot set up stdio for \"%s\": %s", t->argv[0], why);
  }
  return -1;
}

void task_abandon(pid_t pid, int report_fd) {
  kill(pid, SIGKILL); /* before or after its setsid: the process itself, then its group */
  kill(-pid, SIGKILL);
  close(report_fd);
  waitpid(pid, NULL, 0);
}

void task_kill_tree(pid_t pgid, int sig) {
  if (pgid > 0) kill(-pgid, sig);
  /* Processes the task left behind that were reparented to us (daemons that double-forked
   * into their own sessions). The monitor is single-threaded: one children file. */
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  for (char *p = buf; *p;) {
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p) break;
    if (pid > 0) {
      kill((pid_t)pid, sig);
      kill((pid_t)-pid, sig); /* the group it leads, if it does */
    }
    p = end;
    while (*p == ' ' || *p == '\n') ++p;
  }
}
