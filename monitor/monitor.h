/* drover-monitor: declarations shared by the monitor's files (see README.md). Plain C and
 * fixed-size state: the monitor's private memory is paid once per task. */
#pragma once

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One output stream of the task: the pipe it writes to and the rotating log files
 * <dir>/<name>.<index> it ends up in. */
struct log_sink {
  int pipe;     /* read end, -1 once the task side closed it */
  int dirfd;    /* the logs dir, opened once; every file is opened from it with O_NOFOLLOW */
  int fd;       /* the live file (the highest index); -1 when logs are disabled */
  char name[256];
  unsigned index;
  uint64_t size;
  uint64_t max_size;
  unsigned max_files;
};

/* logs.c */
/* Opens base's dir and the live file (appending, as a restarted task continues its logs).
 * 0, or -errno. */
int log_open(struct log_sink *s, const char *base, uint64_t max_size, unsigned max_files);
/* Moves what the pipe holds into the files. 1 when the pipe reached EOF (and is closed). */
int log_pump(struct log_sink *s);

enum { MAX_CGROUP_PROCS = 8 }; /* --cgroup-procs files at most: the agent passes one per v1
                                 hierarchy it limits with (six), one on v2 */

/* What the task runs as and with. */
struct task_spec {
  char **argv;     /* argv[0] as the job wrote it */
  char **envp;     /* exactly the task's env */
  const char *dir; /* working directory */
  int set_user;
  uid_t uid;
  gid_t gid;
  const char **procs; /* cgroup.procs files to join before the first instruction */
  int nprocs;
  int out_fd, err_fd; /* the task's stdout and stderr */
  /* Set by task_start: how the task got into its cgroups, the last word of the `ok` report:
   * "clone3" (born in its v2 cgroup), "tasks" (it moved itself into each v1 cgroup through its
   * `tasks` file, or cgroup.procs where there is none), "none", or
   * "fallback:ERRNO" (a v2 cgroup, but this kernel refused clone3(CLONE_INTO_CGROUP)). */
  char placement[32];
};

/* task.c */
/* Starts the task's process, in its own session, and returns its pid at once: it joins its
 * cgroups and execs on its own while the caller goes on, with *report_fd to hand to
 * task_wait_exec. On failure returns -1 with a message in err, and no process is left. */
pid_t task_spawn(struct task_spec *t, int *report_fd, char *err, size_t errlen);
/* Waits until the process has exec'd the command (0) or failed on the way (-1, reaped, with
 * the reason in err: its cgroup, user, dir, stdio or command). */
int task_wait_exec(const struct task_spec *t, pid_t pid, int report_fd, char *err, size_t errlen);
/* Writes the child's arguments and the top of its stack once, so that a start does not fault
 * them in (a spare does it while it waits: spare.c). */
void task_prepare(void);
/* Kills and reaps a process from task_spawn that the monitor cannot go on with. */
void task_abandon(pid_t pid, int report_fd);
/* Signals the task's group and every process the monitor adopted as subreaper (and their
 * groups): what a stop must reach. */
void task_kill_tree(pid_t pgid, int sig);

/* oci.c: the task as a container through an OCI runtime CLI (runc, crun). */
struct oci_spec {
  char **runtime;     /* the runtime and its global flags (--root, --log), NULL-terminated */
  const char *bundle; /* the bundle dir (config.json) */
  const char *id;     /* the container id */
  const char *log;    /* the runtime's JSON log, relative to the state dir (may be NULL) */
  /* <state dir>/container.pid, absolute: crun resolves a relative --pid-file against the
   * bundle dir, runc against its working directory. */
  const char *pid_file;
};
/* `create` with the task's stdio, then `start`: returns the container init's PID (now our
 * child), or -1 with the runtime's own message in err. */
pid_t oci_start(const struct oci_spec *o, int out_fd, int err_fd, char *err, size_t errlen);

/* prepare.c */
/* What a monitor makes before any task: /dev/null on its stdio, the signalfd of the signals
 * it handles, its epoll set and its timer; subreaper, umask 022, SIGPIPE ignored. */
struct prepared {
  int devnull, sigfd, epfd, timerfd;
};
/* Fds that come out below min_fd are moved above it (a spare keeps 3, 4, ... free for the
 * fds a start brings). 0, or -1 with the reason in err. */
int monitor_prepare(struct prepared *p, int min_fd, char *err, size_t errlen);
/* The signals the monitor takes through its signalfd; blocked once its task is coming. */
void handled_signals(sigset_t *mask);

/* spare.c */
/* --spare: makes what monitor_prepare makes, waits on fd 3 for the flags and fds of a start,
 * then points *argc and *argv at those flags; ends the process on EOF. */
void spare_wait(int *argc, char ***argv, struct prepared *p);
/* main.c: the buffers read_env_fd fills, their first pages written (by a waiting spare). */
void env_prepare(void);

/* util.c */
/* Field 22 of /proc/PID/stat (clock ticks after boot): with the PID it names one process. */
uint64_t proc_start_time(pid_t pid);
/* Writes data to dirfd/name atomically (temp file, rename): a reader sees the old file or
 * the whole new one, and so does the agent after a crash of its own (the page cache lives
 * on). Not yet durable against a power loss: with keep != NULL the file stays open there for
 * make_durable. 0, or -errno. */
int write_atomic(int dirfd, const char *name, const char *data, size_t len, int *keep);
/* fsync of the file (closing it) and of the dir: the rename survives a power loss. */
void make_durable(int dirfd, int fd);
/* Closes every fd >= 3 except keep (may be -1). Through sys_raw: it never touches errno. */
void close_fds_except(int keep);
/* A system call that leaves errno alone: its result, or -ERRNO. Until its exec the task's
 * child makes only these (task.c): on x86_64 it shares the monitor's memory, errno included,
 * while the monitor opens the task's logs beside it; elsewhere it is a copy, as after fork. */
long sys_raw(long nr, long a, long b, long c, long d);
/* Every disposition the monitor inherited back to the default (an exec keeps the ignored
 * ones): first thing in main, so that a spare does it while it waits (~60 calls). */
void signals_to_default(void);
/* In a child about to exec (the task, the OCI runtime): every signal at its default (the
 * monitor ignores SIGPIPE, and only that since signals_to_default), none blocked, a session of
 * its own. Fails at nothing, so sets no errno: a child sharing the monitor's memory may call
 * it while the monitor runs (task.c). */
void child_defaults(void);
uint64_t now_ns(void);
/* Ends the string at the last whole UTF-8 character: a message cut by bytes (snprintf into a
 * fixed buffer) must not end inside one, or the agent stores text that is not UTF-8. */
void utf8_trim(char *s);

/* The monitor's whole state (main.c). */
enum phase { RUNNING, EXITING, EXITED };
struct monitor {
  enum phase phase;
  pid_t task_pid;
  uint64_t task_start;
  int exit_code, exit_signal;
  uint64_t exit_time_ns;
  int state_dirfd;
  int quitting; /* a client asked the monitor to end once the task has ended */
  int timerfd;  /* kill escalation while running, drain limit while exiting, linger after */
};
extern struct monitor mon;

/* control.c: the unix socket <state_dir>/monitor.sock and its line protocol. */
void control_init(void);         /* the client table, empty: before control_listen */
int control_listen(int epfd);    /* 0 or -errno; the socket is bound relative to the cwd */
void control_accept(int epfd);
void control_ready(int epfd, int slot);
void control_task_exited(void);  /* answers every pending wait */
void control_close(void);        /* removes the socket if it is still ours */
void monitor_stop(int sig, unsigned timeout_ms);
void monitor_end(void) __attribute__((noreturn));
void arm_timer(unsigned ms);
#define TAG_CLIENT 100
