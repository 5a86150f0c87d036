/* drover-monitor: starting the task (own session, in its cgroups before its first
 * instruction, as its user, in its dir, with exactly its env) and signalling all of it.
 * On cgroup v2 the task is born in its cgroup (clone3 with CLONE_INTO_CGROUP): no migration,
 * so no start waits for the kernel's cgroup_threadgroup_rwsem (an RCU grace period without
 * favordynmods). Elsewhere the child waits until its pid is in every cgroup.procs. Either way
 * it is made with CLONE_VM (no page tables copied, no copy-on-write faults after). */
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

enum stage { STAGE_USER = 1, STAGE_CHDIR, STAGE_STDIO, STAGE_EXEC };
struct failure {
  int stage;
  int err;
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
  if (strchr(cmd, '/') != NULL) {
    execve(cmd, argv, envp);
    return errno;
  }
  char path[4096];
  int err = ENOENT, saw_eacces = 0;
  const char *p = env_path(envp);
  for (;;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int n = len == 0 ? snprintf(path, sizeof path, "./%s", cmd)
                     : snprintf(path, sizeof path, "%.*s/%s", (int)len, p, cmd);
    if (n > 0 && (size_t)n < sizeof path) {
      execve(path, argv, envp);
      err = errno;
      if (err == EACCES) saw_eacces = 1;
      else if (err != ENOENT && err != ENOTDIR) return err;
    }
    if (end == NULL) break;
    p = end + 1;
  }
  return (saw_eacces && (err == ENOENT || err == ENOTDIR)) ? EACCES : err;
}

static void child_fail(int fd, int stage, int err) {
  struct failure f = {stage, err};
  ssize_t ignored = write(fd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

/* Until its exec (or _exit) the child may share the monitor's memory (child_stack below),
 * errno included: up to the monitor's "go" nothing here may fail, so that it writes no errno
 * while the monitor is placing it. */
static void run_child(const struct task_spec *t, int sync_rd, int report_wr) {
  child_defaults(); /* its own group: stop and signal reach all of the task, not the monitor */
  char go;
  if (read(sync_rd, &go, 1) != 1) _exit(127); /* the monitor could not place it: never run */
  if (t->set_user) {
    if (setgroups(1, &t->gid) != 0 || setgid(t->gid) != 0 || setuid(t->uid) != 0)
      child_fail(report_wr, STAGE_USER, errno);
  }
  if (chdir(t->dir) != 0) child_fail(report_wr, STAGE_CHDIR, errno);
  int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0 || dup2(t->out_fd, 1) < 0 || dup2(t->err_fd, 2) < 0)
    child_fail(report_wr, STAGE_STDIO, errno);
  close_fds_except(report_wr); /* close-on-exec: its EOF tells the monitor exec worked */
  child_fail(report_wr, STAGE_EXEC, exec_search(t->argv, t->envp));
}

static int join_cgroup(const char *procs, pid_t pid) {
  int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char num[32];
  int n = snprintf(num, sizeof num, "%d\n", (int)pid);
  int err = write(fd, num, (size_t)n) == n ? 0 : errno;
  close(fd);
  return err;
}

/* The directory of a cgroup.procs file when it lies on cgroup2, opened O_PATH for
 * CLONE_INTO_CGROUP; -1 for a v1 hierarchy (or a dir that cannot be opened: the write that
 * follows names the problem). */
static int cgroup2_dir(const char *procs) {
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s", procs) >= (int)sizeof dir) return -1;
  int fd = open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct statfs sfs;
  if (fstatfs(fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) return fd;
  close(fd);
  return -1;
}

struct child_args {
  const struct task_spec *t;
  int sync[2], report[2];
};

static int child_main(void *p) {
  const struct child_args *a = p;
  close(a->sync[1]); /* the monitor's ends: its close of sync[1] must reach the child as EOF */
  close(a->report[0]);
  run_child(a->t, a->sync[0], a->report[1]);
  return 127; /* not reached: run_child execs or exits */
}

/* The child runs on this stack, in the monitor's memory (CLONE_VM), as posix_spawn's does, but
 * without CLONE_VFORK: the monitor goes on to place the child while the child waits for "go".
 * Nothing is copied: on CI's VM a fork of the monitor then /bin/true read 1.85 ms, this 1.40
 * ms (each copy-on-write fault ~18 µs there). The monitor returns from task_start only once
 * the report pipe says the child exec'd or exited, so the stack and *t outlive the child's
 * use of them; the monitor is single-threaded. */
static char child_stack[64 * 1024] __attribute__((aligned(16)));
static struct child_args child_args;

static pid_t clone_sharing_memory(void) {
  return clone(child_main, child_stack + sizeof child_stack, CLONE_VM | SIGCHLD, &child_args);
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
 * clone_sharing_memory's does; elsewhere it is a copy, as after fork, and returns 0 here to
 * run run_child. */
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

/* What a kernel without clone3 (< 5.3: ENOSYS) or without CLONE_INTO_CGROUP (< 5.7: E2BIG
 * for the longer struct, or EINVAL for the flag) answers. */
static int clone3_unsupported(int err) { return err == ENOSYS || err == E2BIG || err == EINVAL; }

pid_t task_start(struct task_spec *t, char *err, size_t errlen) {
  int sync[2], report[2];
  if (pipe2(sync, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  int born_in = -1, cgroup_fd = -1; /* the v2 cgroup the child is cloned into, by index */
  for (int i = 0; i < t->nprocs && cgroup_fd < 0; ++i)
    if ((cgroup_fd = cgroup2_dir(t->procs[i])) >= 0) born_in = i;
  snprintf(t->placement, sizeof t->placement, "%s", t->nprocs > 0 ? "procs" : "none");
  child_args = (struct child_args){t, {sync[0], sync[1]}, {report[0], report[1]}};
  pid_t pid = -1;
  if (cgroup_fd >= 0) {
    pid = clone_into_cgroup(cgroup_fd);
    int e = errno;
    if (pid >= 0) {
      snprintf(t->placement, sizeof t->placement, "clone3");
    } else if (clone3_unsupported(e)) {
      snprintf(t->placement, sizeof t->placement, "fallback:%d", e);
      born_in = -1; /* joins through cgroup.procs below, as on v1 */
    } else {
      snprintf(err, errlen, "cannot start the task in cgroup %s: %s", t->procs[born_in],
               strerror(e));
      close(cgroup_fd);
      return -1;
    }
  }
  if (pid == 0) { /* clone3's child where it is a copy of the monitor, as after fork */
    close(sync[1]);
    close(report[0]);
    run_child(t, sync[0], report[1]);
  }
  if (pid < 0) {
    pid = clone_sharing_memory();
    if (pid < 0) {
      snprintf(err, errlen, "clone: %s", strerror(errno));
      if (cgroup_fd >= 0) close(cgroup_fd);
      return -1;
    }
  }
  if (cgroup_fd >= 0) close(cgroup_fd);
  close(sync[0]);
  close(report[1]);
  for (int i = 0; i < t->nprocs; ++i) {
    if (i == born_in) continue;
    int e = join_cgroup(t->procs[i], pid);
    if (e != 0) {
      snprintf(err, errlen, "cannot place the task in cgroup %s: %s", t->procs[i], strerror(e));
      close(sync[1]); /* the child reads EOF and exits without running anything */
      close(report[0]);
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      return -1;
    }
  }
  ssize_t ignored = write(sync[1], "g", 1);
  (void)ignored;
  close(sync[1]);
  struct failure f;
  ssize_t n;
  do {
    n = read(report[0], &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n != (ssize_t)sizeof f) return pid;
  waitpid(pid, NULL, 0);
  const char *why = strerror(f.err);
  switch (f.stage) {
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
