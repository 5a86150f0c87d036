/* --spare: a monitor started ahead of need (README.md, "Spares"). The driver spawns it with a
 * SOCK_SEQPACKET socket on fd 3 and keeps it waiting; a task's start then costs no process
 * creation and no exec of the monitor, only this wakeup. One message arrives: the flags the
 * monitor would have been started with, each NUL-terminated, and in SCM_RIGHTS the fds that
 * go to 3, 4, ... in order (the status pipe, then raw_exec's env memfd). EOF instead (the
 * driver let it go, or the agent ended): it ends, having done nothing. The driver may pass a
 * third argument, blank, as room for the title below. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor.h"

enum { SPARE_FD = 3, SPARE_MAX_FDS = 4, SPARE_MAX_MSG = 65536, SPARE_WARM_ARGS = 256 };

/* The stack a start goes down to (main, the logs, task_spawn), written once now: each page a
 * process writes first is a page fault, ~18 µs on CI's VM, and a start took ~10 of them. */
static void __attribute__((noinline)) touch_stack(void) {
  volatile char pages[16 * 1024];
  for (size_t i = 0; i < sizeof pages; i += 4096) pages[i] = 0;
}

void spare_wait(int *argc, char ***argv, struct prepared *p) {
  close_fds_except(SPARE_FD); /* nothing of the agent kept while it waits */
  /* The socket out of the way: the fds a start brings then arrive at 3, 4, ... (the lowest
   * free numbers), where its flags name them, with nothing to move. */
  const int sock = fcntl(SPARE_FD, F_DUPFD_CLOEXEC, SPARE_FD + SPARE_MAX_FDS);
  if (sock < 0) _exit(2);
  close(SPARE_FD);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL); /* a SIGTERM ends a waiting spare */
  char err[256];
  if (monitor_prepare(p, SPARE_FD + SPARE_MAX_FDS, err, sizeof err) != 0) _exit(2);

  static char buf[SPARE_MAX_MSG];
  /* While nothing waits: the pages the start writes first (the flags land in buf's first). */
  touch_stack();
  ((volatile char *)buf)[0] = 0;
  /* And the argument vector, allocated now: the allocator's first call sets up its heap,
   * ~0.12 ms of a start on CI's VM when it came after the message. */
  char **args = calloc(SPARE_WARM_ARGS, sizeof *args);
  if (args == NULL) _exit(2);
  ((char *volatile *)args)[0] = NULL;
  ((char *volatile *)args)[SPARE_WARM_ARGS - 1] = NULL;
  env_prepare();
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int) * SPARE_MAX_FDS)];
  } ctl;
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
                       .msg_controllen = sizeof ctl.space};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) _exit(0);

  int fds[SPARE_MAX_FDS], nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && nfds < SPARE_MAX_FDS; ++i)
      memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  /* The driver never sends more than fits: anything else is not its message. */
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || buf[n - 1] != '\0') _exit(2);

  close(sock);

  /* The fds are at 3, 4, ..., the lowest free numbers: 0 to 2 are /dev/null and nothing else
   * is below 7 (close-on-exec: main makes the status fd so anyway, and reads and closes the
   * env fd). Elsewhere they would not be what the flags name: not a start of ours. */
  for (int i = 0; i < nfds; ++i)
    if (fds[i] != SPARE_FD + i) _exit(2);

  /* What ps shows: the flags of the start, in place of "--spare" and the blank room the
   * driver left after it (a process cannot grow its argv area without CAP_SYS_RESOURCE), cut
   * to fit. A spare's task is then found by its state dir, as a freshly spawned monitor's. */
  if (*argc == 3) {
    char *area = (*argv)[1];
    size_t room = (size_t)((*argv)[2] + strlen((*argv)[2]) - area); /* the last NUL stays */
    size_t m = (size_t)n < room ? (size_t)n : room;
    memcpy(area, buf, m);
    memset(area + m, 0, room - m);
  }

  int count = 0;
  for (ssize_t i = 0; i < n; ++i) count += buf[i] == '\0';
  if (count + 2 > SPARE_WARM_ARGS) {
    free(args);
    if ((args = calloc((size_t)count + 2, sizeof *args)) == NULL) _exit(2);
  }
  args[0] = (*argv)[0];
  int k = 1;
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) args[k++] = buf + i;
  *argc = k;
  *argv = args;
}
