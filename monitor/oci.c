/* drover-monitor, OCI mode: starts the task as a container through an OCI runtime CLI (runc,
 * crun) the way conmon does. `RUNTIME... run --detach` gets the task's stdio pipes (no
 * terminal), so the container's init writes straight into them; when the runtime exits, the
 * init is reparented to us (we are its subreaper), and from then on the monitor treats it as
 * the task's main process. No runtime process stays behind.
 * Deleting the stopped container is the driver's job: it reads the container's OOM counter
 * first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"

enum { MAX_ARGS = 48 };
static char *const kEnv[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                             NULL};

struct runtime_call {
  char **args;
  int in, out, err;
};

static int runtime_child(void *p) {
  const struct runtime_call *c = p;
  child_defaults(); /* signals for the monitor's group never reach the runtime */
  if (dup2(c->in, 0) < 0 || dup2(c->out, 1) < 0 || dup2(c->err, 2) < 0) _exit(127);
  close_fds_except(-1);
  execve(c->args[0], c->args, kEnv);
  _exit(127);
}

/* Runs prefix + extra with stdio in/out/err and waits; returns the exit status (-1: could
 * not run it). The runtime's process is made as posix_spawn makes one, CLONE_VM | CLONE_VFORK
 * on a stack of its own: nothing of the monitor is copied (a fork here cost ~0.5 ms and the
 * monitor's next writes their copy-on-write faults on CI's VM: task.c, clone_child),
 * and the monitor sleeps until the exec, so the child may set errno as it likes. */
static int run_runtime(const struct oci_spec *o, const char *const *extra, int in, int out, int err) {
  static char stack[64 * 1024] __attribute__((aligned(16)));
  char *args[MAX_ARGS];
  int n = 0;
  for (char **p = o->runtime; *p && n < MAX_ARGS - 8; ++p) args[n++] = *p;
  for (const char *const *p = extra; *p && n < MAX_ARGS - 1; ++p) args[n++] = (char *)*p;
  args[n] = NULL;
  struct runtime_call call = {args, in, out, err};
  pid_t pid = clone(runtime_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &call);
  if (pid < 0) return -1;
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The last "msg" of the runtime's JSON log (runc and crun both write {"msg": "..."}): what
 * the operator needs to read when create fails. */
static void last_log_message(const char *file, char *out, size_t len) {
  out[0] = '\0';
  int fd = openat(mon.state_dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  static char buf[16384];
  off_t size = lseek(fd, 0, SEEK_END);
  off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
  ssize_t n = pread(fd, buf, sizeof buf - 1, from);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  char *last = NULL;
  for (char *p = buf; (p = strstr(p, "\"msg\"")) != NULL; p += 5) last = p;
  if (last == NULL) return;
  char *p = strchr(last + 5, '"');
  if (p == NULL) return;
  size_t k = 0;
  for (++p; *p && *p != '"' && k + 1 < len; ++p) {
    if (*p == '\\' && p[1]) {
      ++p;
      out[k++] = (*p == 'n' || *p == 't') ? ' ' : *p;
    } else {
      out[k++] = *p;
    }
  }
  out[k] = '\0';
  utf8_trim(out);
}

pid_t oci_start(const struct oci_spec *o, int out_fd, int err_fd, char *err, size_t errlen) {
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
    return -1;
  }
  unlinkat(mon.state_dirfd, "container.pid", 0);
  /* `run --detach` is create and start in one runtime process (one Go start-up less than
   * create then start: ~40 % of an exec task's start, measured in bench/). The container's
   * init gets the task's stdio pipes (no terminal) and, once the runtime exits, this monitor
   * as its parent (it is the subreaper). */
  const char *run[] = {"run",        "--detach",  "--bundle", o->bundle,
                       "--pid-file", o->pid_file, o->id,      NULL};
  int rc = run_runtime(o, run, devnull, out_fd, err_fd);
  char num[32] = {0};
  int fd = openat(mon.state_dirfd, "container.pid", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, num, sizeof num - 1) : -1;
  if (fd >= 0) close(fd);
  pid_t init = n > 0 ? (pid_t)strtol(num, NULL, 10) : 0;
  if (rc != 0) {
    char msg[768];
    if (o->log) last_log_message(o->log, msg, sizeof msg);
    else msg[0] = '\0';
    if (msg[0]) snprintf(err, errlen, "%s", msg);
    else snprintf(err, errlen, "%s run %s failed (exit %d)", o->runtime[0], o->id, rc);
  } else if (init <= 0) {
    snprintf(err, errlen, "%s run %s wrote no pid file", o->runtime[0], o->id);
  } else {
    close(devnull);
    return init;
  }
  /* A container that failed to start: end what the runtime left rather than leave it waiting. */
  if (init > 0) kill(init, SIGKILL);
  const char *del[] = {"delete", "--force", o->id, NULL};
  run_runtime(o, del, devnull, devnull, devnull);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  close(devnull);
  return -1;
}
