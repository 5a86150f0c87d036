/* drover-monitor: what a monitor makes before its task, whatever the task (README.md,
 * "Spares"). A spare makes it while it waits, so that a start pays only for what the task
 * itself needs; a monitor spawned cold makes it once its flags are read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "monitor.h"

void handled_signals(sigset_t *mask) {
  sigemptyset(mask);
  sigaddset(mask, SIGCHLD);
  sigaddset(mask, SIGTERM);
  sigaddset(mask, SIGINT);
  sigaddset(mask, SIGHUP);
  sigaddset(mask, SIGQUIT);
}

/* fd, moved to min_fd or above when it is below (close-on-exec either way). */
static int at_least(int fd, int min_fd) {
  if (fd < 0 || fd >= min_fd) return fd;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
  close(fd);
  return high;
}

int monitor_prepare(struct prepared *p, int min_fd, char *err, size_t errlen) {
  prctl(PR_SET_CHILD_SUBREAPER, 1); /* adopter of the task's orphans */
  umask(022);
  signal(SIGPIPE, SIG_IGN); /* the one disposition not the default: child_defaults undoes it */
  p->devnull = at_least(open("/dev/null", O_RDWR | O_CLOEXEC), min_fd);
  if (p->devnull < 0) {
    snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
    return -1;
  }
  dup2(p->devnull, 0);
  dup2(p->devnull, 1);
  dup2(p->devnull, 2);
  /* Made now, blocked at the start (monitor_block_signals): until then a waiting spare still
   * ends on a SIGTERM, and the signalfd sees nothing. */
  sigset_t mask;
  handled_signals(&mask);
  p->sigfd = at_least(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC), min_fd);
  p->epfd = at_least(epoll_create1(EPOLL_CLOEXEC), min_fd);
  p->timerfd = at_least(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), min_fd);
  if (p->sigfd < 0 || p->epfd < 0 || p->timerfd < 0) {
    snprintf(err, errlen, "signalfd/epoll/timerfd: %s", strerror(errno));
    return -1;
  }
  return 0;
}
