/* drover-monitor: small helpers on /proc, files and fds (see monitor.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

uint64_t proc_start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  /* comm may hold spaces and ')': fields resume after the last ')'. */
  char *p = strrchr(buf, ')');
  if (p == NULL) return 0;
  p += 2;
  for (int field = 3; field < 22; ++field) {
    p = strchr(p, ' ');
    if (p == NULL) return 0;
    ++p;
  }
  return strtoull(p, NULL, 10);
}

int write_atomic(int dirfd, const char *name, const char *data, size_t len, int *keep) {
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.tmp", name);
  if (keep) *keep = -1;
  unlinkat(dirfd, tmp, 0);
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      unlinkat(dirfd, tmp, 0);
      return -e;
    }
    off += (size_t)w;
  }
  if (renameat(dirfd, tmp, dirfd, name) != 0) {
    int e = errno;
    close(fd);
    unlinkat(dirfd, tmp, 0);
    return -e;
  }
  if (keep) *keep = fd;
  else close(fd);
  return 0;
}

void make_durable(int dirfd, int fd) {
  if (fd < 0) return;
  fsync(fd);
  close(fd);
  fsync(dirfd);
}

void signals_to_default(void) {
  /* SIGKILL and SIGSTOP cannot be changed, and 32 up to SIGRTMIN are the libc's own:
   * sigaction refuses those, and would set errno. */
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < SIGRTMIN)) continue;
    signal(sig, SIG_DFL);
  }
}

void child_defaults(void) {
  signal(SIGPIPE, SIG_DFL); /* every other disposition is the default since main's start */
  sigset_t none; /* dispositions first: the monitor has no handlers, so none can run here */
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid(); /* a fresh child is no group leader: this cannot fail */
}

long sys_raw(long nr, long a, long b, long c, long d) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
#else
  long r = syscall(nr, a, b, c, d);
  return r < 0 ? -errno : r;
#endif
}

void close_fds_except(int keep) {
  const long all = (long)~0u;
  if (keep < 3) {
    if (sys_raw(SYS_close_range, 3, all, 0, 0) == 0) return;
  } else if ((keep == 3 || sys_raw(SYS_close_range, 3, keep - 1, 0, 0) == 0) &&
             sys_raw(SYS_close_range, keep + 1, all, 0, 0) == 0) {
    /* keep == 3 has no range below it: close_range(3, 2) is EINVAL, and the fallback
       below would close 20,000 fds one by one on every task start. */
    return;
  }
  struct { uint64_t cur, max; } lim; /* kernels before 5.9: up to the fd limit */
  long max = sys_raw(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&lim) == 0 ? (long)lim.cur : 1024;
  if (max < 0 || max > 65536) max = 65536; /* RLIM_INFINITY reads as -1 */
  for (long fd = 3; fd < max; ++fd)
    if (fd != keep) sys_raw(SYS_close, fd, 0, 0, 0);
}

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void utf8_trim(char *s) {
  size_t n = strlen(s);
  /* Walk back over continuation bytes (10xxxxxx) to the lead byte of the last character. */
  size_t i = n, cont = 0;
  while (i > 0 && cont < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) --i, ++cont;
  if (i == 0) {
    if (cont) s[0] = '\0';
    return;
  }
  unsigned char lead = (unsigned char)s[i - 1];
  size_t need = lead < 0x80 ? 0 : (lead & 0xE0) == 0xC0 ? 1 : (lead & 0xF0) == 0xE0 ? 2
              : (lead & 0xF8) == 0xF0 ? 3 : 0;
  if (lead >= 0x80 && cont < need) s[i - 1] = '\0'; /* the last character lost its tail */
}
