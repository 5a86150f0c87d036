/* drover-monitor: parent and subreaper of one task (README.md has the flags and protocol).
 * In a session of its own, it starts the task, moves its output into rotating logs, records
 * its exit in <state_dir>/exit, and answers the driver on <state_dir>/monitor.sock. It
 * sleeps in one epoll loop; the only timers are the kill escalation, the drain limit after
 * the task ends and the linger before the monitor ends. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"

enum { TAG_SIGNAL = 0, TAG_STDOUT = 1, TAG_STDERR = 2, TAG_LISTEN = 3, TAG_TIMER = 4 };
enum { DRAIN_MS = 2000 };

struct monitor mon;
static struct log_sink sinks[2] = {{.pipe = -1, .dirfd = -1, .fd = -1},
                                   {.pipe = -1, .dirfd = -1, .fd = -1}};
static int status_fd = -1;
static unsigned linger_ms = 60000;
static void report(const char *fmt, ...) {
  if (status_fd < 0) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof line) {
    line[sizeof line - 2] = '\0';
    utf8_trim(line);
    n = (int)strlen(line);
    line[n++] = '\n';
  }
  ssize_t ignored = write(status_fd, line, (size_t)n);
  (void)ignored;
  close(status_fd);
  status_fd = -1;
}

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  utf8_trim(msg);
  for (char *p = msg; *p; ++p)
    if (*p == '\n') *p = ' ';
  report("error %s\n", msg);
  exit(1);
}

static const char kUsage[] =
    "usage: drover-monitor --state-dir DIR --dir WORKDIR [--status-fd FD]\n"
    "       [--env-fd FD]\n"
    "       [--stdout BASE --stderr BASE [--max-files N] [--max-file-size BYTES]]\n"
    "       [--user UID:GID] [--cgroup-procs FILE]... [--linger-ms MS] [--detach]\n"
    "       -- COMMAND [ARG]...\n"
    "   or: drover-monitor --state-dir DIR --oci-bundle DIR --oci-id ID [--oci-log FILE]\n"
    "       [--status-fd FD] [--stdout BASE --stderr BASE ...] [--detach]\n"
    "       -- RUNTIME [GLOBAL FLAG]...\n"
    "   or: drover-monitor --spare [ROOM]   (fd 3: a socket that brings the flags above)\n";

/* Where an env of usual size goes: no allocation on the start's path (an allocator's new
 * size class maps and faults in a page, ~0.05 ms on CI's VM). A larger env is allocated. */
enum { ENV_BUF = 16384, ENV_VEC = 512 };
static char env_buf[ENV_BUF];
static char *env_vec[ENV_VEC];

void env_prepare(void) {
  ((volatile char *)env_buf)[0] = 0;
  ((char *volatile *)env_vec)[0] = NULL;
}

/* The task's env from the driver's memfd (--env-fd): NUL-separated KEY=VALUE, read whole
 * (pread: the writer's offset is not ours) and closed. Secrets stay out of argv and never
 * touch a filesystem. */
static char **read_env_fd(int fd, const char *what) {
  struct stat st;
  if (fstat(fd, &st) != 0) fail("stat env %s: %s", what, strerror(errno));
  char *data = (size_t)st.st_size < ENV_BUF ? env_buf : malloc((size_t)st.st_size + 1);
  size_t len = 0;
  while (data && len < (size_t)st.st_size) {
    ssize_t n = pread(fd, data + len, (size_t)st.st_size - len, (off_t)len);
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  if (data == NULL) fail("env %s: out of memory", what);
  data[len] = '\0';
  size_t count = 0;
  for (size_t i = 0; i < len; ++i) count += data[i] == '\0';
  char **env = count + 2 <= ENV_VEC ? env_vec : calloc(count + 2, sizeof *env);
  size_t k = 0;
  for (size_t i = 0; env && i < len; i += strlen(data + i) + 1)
    if (data[i] != '\0') env[k++] = data + i;
  if (env == NULL) fail("env %s: out of memory", what);
  return env;
}

void arm_timer(unsigned ms) {
  struct itimerspec its = {0};
  its.it_value.tv_sec = ms / 1000;
  its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L + (ms == 0); /* 0 would disarm */
  timerfd_settime(mon.timerfd, 0, &its, NULL);
}

void monitor_stop(int sig, unsigned timeout_ms) {
  task_kill_tree(mon.task_pid, sig);
  if (sig != SIGKILL) arm_timer(timeout_ms);
}

static ino_t pid_file_ino; /* of the monitor.pid this monitor wrote */

void monitor_end(void) {
  control_close();
  /* A monitor started after this one in the same state dir (the task's restart, which may
   * begin as soon as the exit is answered) has written its own: leave that one. */
  struct stat st;
  if (pid_file_ino && fstatat(mon.state_dirfd, "monitor.pid", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      st.st_ino == pid_file_ino)
    unlinkat(mon.state_dirfd, "monitor.pid", 0);
  exit(0);
}

static void finish(void) {
  mon.exit_time_ns = now_ns();
  mon.phase = EXITED;
  char line[128];
  int n = snprintf(line, sizeof line, "exited %d %d %llu %d\n", mon.exit_code, mon.exit_signal,
                   (unsigned long long)mon.exit_time_ns, (int)mon.task_pid);
  /* The record is in place (in the page cache) before anyone hears of the exit, so a crash
   * of the agent or of this monitor from here on cannot lose it; only then is it answered,
   * and made durable after: a power loss before the fsync loses the exit and the tasks
   * alike, and nothing is left on disk that says otherwise (README.md, "Files"). */
  int fd = -1;
  write_atomic(mon.state_dirfd, "exit", line, (size_t)n, &fd);
  control_task_exited();
  make_durable(mon.state_dirfd, fd);
  if (mon.quitting) monitor_end();
  arm_timer(linger_ms);
}

static void reap(void) {
  int status;
  pid_t pid;
  int any = 0;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    any = 1;
    if (pid != mon.task_pid || mon.phase != RUNNING) continue; /* an adopted orphan */
    if (WIFSIGNALED(status)) {
      mon.exit_signal = WTERMSIG(status);
      mon.exit_code = 128 + mon.exit_signal; /* as Nomad reports it */
    } else {
      mon.exit_code = WEXITSTATUS(status);
    }
    mon.phase = EXITING;
    arm_timer(DRAIN_MS);
  }
  /* The task ends with its main process: what it left behind would run unsupervised. Each
   * death may reparent more of them to us, so sweep again every time. */
  if (any && mon.phase != RUNNING) task_kill_tree(mon.task_pid, SIGKILL);
}

static void on_signal(int sigfd) {
  struct signalfd_siginfo si;
  while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) reap();
    else if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && mon.phase == RUNNING)
      kill(-mon.task_pid, (int)si.ssi_signo); /* passed on; the task decides */
  }
}

static void on_timer(void) {
  uint64_t ticks;
  ssize_t ignored = read(mon.timerfd, &ticks, sizeof ticks);
  (void)ignored;
  if (mon.phase == RUNNING) {
    task_kill_tree(mon.task_pid, SIGKILL); /* kill timeout passed */
  } else if (mon.phase == EXITING) {
    for (int i = 0; i < 2; ++i) /* a writer escaped the sweep: keep what is there, go on */
      if (sinks[i].pipe >= 0) {
        log_pump(&sinks[i]);
        if (sinks[i].pipe >= 0) close(sinks[i].pipe);
        sinks[i].pipe = -1;
      }
    finish();
  } else {
    monitor_end(); /* nobody came for the exit: it stays in the exit file */
  }
}

int main(int argc, char **argv) {
  signals_to_default();
  control_init();
  task_prepare();
  char err[1024];
  struct prepared prep = {-1, -1, -1, -1};
  const int spare = (argc == 2 || argc == 3) && strcmp(argv[1], "--spare") == 0;
  if (spare) spare_wait(&argc, &argv, &prep);
  const char *state_dir = NULL, *work_dir = NULL, *bases[2] = {NULL, NULL};
  const char *procs[MAX_CGROUP_PROCS];
  struct oci_spec oci = {0};
  struct task_spec t = {0};
  unsigned long max_files = 10, max_size = 10ul * 1024 * 1024;
  static const struct option opts[] = {
      {"state-dir", 1, 0, 's'}, {"dir", 1, 0, 'd'},          {"status-fd", 1, 0, 'f'},
      {"stdout", 1, 0, 'o'},    {"stderr", 1, 0, 'r'},
      {"max-files", 1, 0, 'n'}, {"max-file-size", 1, 0, 'z'}, {"user", 1, 0, 'u'},
      {"cgroup-procs", 1, 0, 'c'}, {"linger-ms", 1, 0, 'l'}, {"oci-bundle", 1, 0, 'B'},
      {"oci-id", 1, 0, 'I'},       {"oci-log", 1, 0, 'L'},   {"detach", 0, 0, 'D'},
      {"env-fd", 1, 0, 'E'},       {0, 0, 0, 0}};
  int c, detach = 0, env_fd = -1;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (c) {
      case 's': state_dir = optarg; break;
      case 'd': work_dir = optarg; break;
      case 'f': status_fd = atoi(optarg); break;
      case 'E': env_fd = atoi(optarg); break;
      case 'o': bases[0] = optarg; break;
      case 'r': bases[1] = optarg; break;
      case 'n': max_files = strtoul(optarg, NULL, 10); break;
      case 'z': max_size = strtoul(optarg, NULL, 10); break;
      case 'B': oci.bundle = optarg; break;
      case 'I': oci.id = optarg; break;
      case 'L': oci.log = optarg; break;
      case 'l': linger_ms = (unsigned)strtoul(optarg, NULL, 10); break;
      case 'D': detach = 1; break;
      case 'u': {
        unsigned u, g;
        if (sscanf(optarg, "%u:%u", &u, &g) != 2) fail("--user: want UID:GID, got %s", optarg);
        t.set_user = 1;
        t.uid = u;
        t.gid = g;
        break;
      }
      case 'c':
        if (t.nprocs == MAX_CGROUP_PROCS) fail("--cgroup-procs: at most %d", MAX_CGROUP_PROCS);
        procs[t.nprocs++] = optarg;
        break;
      default: fail("%s", kUsage);
    }
  }
  if (status_fd >= 0 && fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0) status_fd = -1;
  if (!state_dir || (!work_dir && !oci.bundle) || optind >= argc) fail("%s", kUsage);
  if ((oci.bundle == NULL) != (oci.id == NULL)) fail("--oci-bundle and --oci-id go together");
  if ((bases[0] == NULL) != (bases[1] == NULL)) fail("--stdout and --stderr go together");
  /* Read before anything else is closed (close_fds_except below). */
  if (env_fd >= 0) t.envp = read_env_fd(env_fd, "--env-fd");

  /* --detach: the process the launcher started ends at once and the monitor goes on in its
   * child, never the launcher's. The launcher (a large multi-threaded agent) can then spawn
   * the monitor without copying its address space (posix_spawn) instead of forking twice:
   * this fork copies a few hundred KiB. */
  if (detach) {
    pid_t child = fork();
    if (child < 0) fail("fork: %s", strerror(errno));
    if (child > 0) _exit(0);
  }
  /* A spare stands apart already (spare.c): its own session from the driver's spawn, nothing
   * of the agent kept, what monitor_prepare makes made while it waited. Spawned cold: its
   * own session (the drivers' posix_spawn already made one: then this fails, harmlessly),
   * nothing of the agent kept open, then the rest. */
  if (!spare) {
    setsid();
    close_fds_except(status_fd);
    if (monitor_prepare(&prep, 0, err, sizeof err) != 0) fail("%s", err);
  }
  sigset_t mask;
  handled_signals(&mask);
  sigprocmask(SIG_SETMASK, &mask, NULL);
  const int devnull = prep.devnull, sigfd = prep.sigfd, epfd = prep.epfd;
  mon.timerfd = prep.timerfd;

  mon.state_dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (mon.state_dirfd < 0) fail("open state dir %s: %s", state_dir, strerror(errno));
  unlinkat(mon.state_dirfd, "exit", 0); /* an earlier run's */
  static char *no_env[] = {NULL};
  if (t.envp == NULL) t.envp = no_env;

  int task_fds[2] = {devnull, devnull};
  for (int i = 0; i < 2; ++i) {
    if (bases[i] == NULL) continue;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) fail("pipe: %s", strerror(errno));
    fcntl(p[0], F_SETFL, O_NONBLOCK); /* only our end: the task's end stays blocking */
    sinks[i].pipe = p[0];
    task_fds[i] = p[1];
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(TAG_STDOUT + i)};
    epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev);
  }
  t.argv = argv + optind;
  t.dir = work_dir;
  t.procs = procs;
  t.out_fd = task_fds[0];
  t.err_fd = task_fds[1];
  /* A command's process starts now and joins its cgroups and execs while the monitor opens
   * the logs and its socket: on CI's 2-core VM those took ~0.3 ms of each start when they came
   * first. What it writes meanwhile waits in the pipes. If they fail, it is killed before
   * the report, which then names the failure. */
  int report_fd = -1;
  pid_t early = -1;
  if (!oci.bundle && (early = task_spawn(&t, &report_fd, err, sizeof err)) < 0) fail("%s", err);
  for (int i = 0; i < 2; ++i) {
    if (bases[i] == NULL) continue;
    int r = log_open(&sinks[i], bases[i], max_size, (unsigned)max_files);
    if (r < 0) {
      if (early > 0) task_abandon(early, report_fd);
      fail("open log %s: %s", bases[i], strerror(-r));
    }
  }
  if (fchdir(mon.state_dirfd) != 0) {
    int e = errno;
    if (early > 0) task_abandon(early, report_fd);
    fail("enter state dir %s: %s", state_dir, strerror(e));
  }
  int r = control_listen(epfd);
  if (r < 0) {
    if (early > 0) task_abandon(early, report_fd);
    fail("listen on %s/monitor.sock: %s", state_dir, strerror(-r));
  }

  if (oci.bundle) {
    oci.runtime = argv + optind; /* in OCI mode the command is the runtime and its flags */
    static char pid_file[PATH_MAX];
    if (!getcwd(pid_file, sizeof pid_file - sizeof "/container.pid"))
      fail("state dir %s: %s", state_dir, strerror(errno));
    strcat(pid_file, "/container.pid");
    oci.pid_file = pid_file;
    mon.task_pid = oci_start(&oci, t.out_fd, t.err_fd, err, sizeof err);
  } else {
    mon.task_pid = task_wait_exec(&t, early, report_fd, err, sizeof err) == 0 ? early : -1;
  }
  if (mon.task_pid < 0) {
    control_close();
    fail("%s", err);
  }
  mon.task_start = proc_start_time(mon.task_pid);
  for (int i = 0; i < 2; ++i)
    if (task_fds[i] != devnull) close(task_fds[i]);

  uint64_t my_start = proc_start_time(getpid());
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_SIGNAL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
  ev.data.u64 = TAG_TIMER;
  epoll_ctl(epfd, EPOLL_CTL_ADD, mon.timerfd, &ev);
  report("ok %d %llu %d %llu %s\n", (int)mon.task_pid, (unsigned long long)mon.task_start,
         (int)getpid(), (unsigned long long)my_start, t.placement[0] ? t.placement : "none");
  /* After the report, off the timed start: the file is for an agent that died between asking
   * for the start and keeping the handle, and it comes back far later than this. Atomic, not
   * fsynced: it only matters across an agent crash, where the page cache survives; after a
   * power loss the monitor is gone anyway, and a missing or empty file reads as "no monitor"
   * (README.md, "Files"). */
  char line[128];
  int n = snprintf(line, sizeof line, "%d %llu\n", (int)getpid(), (unsigned long long)my_start);
  struct stat pid_st;
  if (write_atomic(mon.state_dirfd, "monitor.pid", line, (size_t)n, NULL) == 0 &&
      fstatat(mon.state_dirfd, "monitor.pid", &pid_st, AT_SYMLINK_NOFOLLOW) == 0)
    pid_file_ino = pid_st.st_ino;
  reap(); /* a SIGCHLD that came before the signalfd was polled is still pending: harmless */

  for (;;) {
    struct epoll_event evs[16];
    int ready = epoll_wait(epfd, evs, 16, -1);
    for (int i = 0; i < ready; ++i) {
      uint64_t tag = evs[i].data.u64;
      if (tag == TAG_SIGNAL) on_signal(sigfd);
      else if (tag == TAG_STDOUT || tag == TAG_STDERR) {
        struct log_sink *s = &sinks[tag - TAG_STDOUT];
        if (s->pipe >= 0) log_pump(s); /* EOF closes it, which also leaves the epoll set */
      } else if (tag == TAG_LISTEN) control_accept(epfd);
      else if (tag == TAG_TIMER) on_timer();
      else control_ready(epfd, (int)(tag - TAG_CLIENT));
    }
    if (mon.phase == EXITING && sinks[0].pipe < 0 && sinks[1].pipe < 0) finish();
  }
}
