/* drover-monitor: the control socket. One request per line, one reply line each:
 *   wait            -> "exited CODE SIGNAL TIME_NS TASKPID" once the task has ended
 *   status          -> "running TASKPID" or the exited line, at once
 *   pid             -> "pid TASKPID TASKSTARTTIME"
 *   signal N        -> "ok" | "error ..."          (N to the task's process group)
 *   stop N MS       -> "ok": N to the whole task, SIGKILL after MS unless it has ended
 *   quit            -> kill what runs, record the exit, "bye", and the monitor ends
 * Fixed slots and buffers: no allocation after start. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "monitor.h"

#define MAX_CLIENTS 32
static const char kSock[] = "monitor.sock";

struct client {
  int fd;
  unsigned len;
  int waiting, quitting;
  char buf[120];
};
static struct client clients[MAX_CLIENTS];
static int listen_fd = -1;
static ino_t sock_ino;

void control_init(void) {
  for (int i = 0; i < MAX_CLIENTS; ++i) clients[i].fd = -1;
}

int control_listen(int epfd) {
  unlink(kSock);
  listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) return -errno;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, kSock, sizeof kSock);
  mode_t old = umask(0177); /* 0600 from birth: no window where others may connect */
  int r = bind(listen_fd, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (r != 0 || listen(listen_fd, 16) != 0) return -errno;
  struct stat st;
  if (stat(kSock, &st) == 0) sock_ino = st.st_ino;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 3};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) == 0 ? 0 : -errno;
}

void control_close(void) {
  struct stat st;
  /* A newer monitor of the same task may have bound the name since: leave its socket. */
  if (stat(kSock, &st) == 0 && st.st_ino == sock_ino) unlink(kSock);
}

static void drop(int epfd, struct client *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

static void reply(struct client *c, const char *line) {
  ssize_t ignored = send(c->fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
}

static void exit_line(char *out, size_t len) {
  snprintf(out, len, "exited %d %d %llu %d\n", mon.exit_code, mon.exit_signal,
           (unsigned long long)mon.exit_time_ns, (int)mon.task_pid);
}

void control_accept(int epfd) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    struct client *c = NULL;
    for (int i = 0; i < MAX_CLIENTS && c == NULL; ++i)
      if (clients[i].fd < 0) c = &clients[i];
    if (c == NULL) {
      close(fd); /* full: the driver retries */
      continue;
    }
    memset(c, 0, sizeof *c);
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_CLIENT + (uint64_t)(c - clients)};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  }
}

static void handle(struct client *c, char *line) {
  char out[128];
  int a = 0;
  unsigned b = 0;
  if (strcmp(line, "wait") == 0) {
    if (mon.phase == EXITED) {
      exit_line(out, sizeof out);
      reply(c, out);
    } else {
      c->waiting = 1;
    }
  } else if (strcmp(line, "status") == 0) {
    if (mon.phase == EXITED) exit_line(out, sizeof out);
    else snprintf(out, sizeof out, "running %d\n", (int)mon.task_pid);
    reply(c, out);
  } else if (strcmp(line, "pid") == 0) {
    snprintf(out, sizeof out, "pid %d %llu\n", (int)mon.task_pid,
             (unsigned long long)mon.task_start);
    reply(c, out);
  } else if (sscanf(line, "signal %d", &a) == 1) {
    if (a < 1 || a >= NSIG) reply(c, "error bad signal\n");
    else if (mon.phase != RUNNING) reply(c, "error task has exited\n");
    /* A container's init need not lead a group: then the signal goes to it alone. */
    else reply(c, kill(-mon.task_pid, a) == 0 || kill(mon.task_pid, a) == 0 ? "ok\n"
                                                                               : "error kill failed\n");
  } else if (sscanf(line, "stop %d %u", &a, &b) == 2) {
    if (a < 1 || a >= NSIG) {
      reply(c, "error bad signal\n");
      return;
    }
    if (mon.phase == RUNNING) monitor_stop(a, b);
    reply(c, "ok\n");
  } else if (strcmp(line, "quit") == 0) {
    if (mon.phase == EXITED) {
      reply(c, "bye\n");
      monitor_end();
    }
    c->quitting = 1;
    mon.quitting = 1;
    if (mon.phase == RUNNING) monitor_stop(SIGKILL, 0);
  } else {
    reply(c, "error unknown request\n");
  }
}

void control_ready(int epfd, int slot) {
  struct client *c = &clients[slot];
  if (c->fd < 0) return;
  ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    drop(epfd, c);
    return;
  }
  c->len += (unsigned)n;
  for (;;) {
    char *nl = memchr(c->buf, '\n', c->len);
    if (nl == NULL) break;
    *nl = '\0';
    size_t used = (size_t)(nl - c->buf) + 1;
    handle(c, c->buf);
    if (c->fd < 0) return;
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= (unsigned)used;
  }
  if (c->len >= sizeof c->buf - 1) drop(epfd, c); /* a line that long is no request of ours */
}

void control_task_exited(void) {
  char out[128];
  exit_line(out, sizeof out);
  for (int i = 0; i < MAX_CLIENTS; ++i) {
    if (clients[i].fd < 0) continue;
    if (clients[i].waiting) reply(&clients[i], out);
    if (clients[i].quitting) reply(&clients[i], "bye\n");
    clients[i].waiting = 0;
  }
}
