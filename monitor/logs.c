/* drover-monitor: the task's stdout/stderr into rotating files <name>.0, .1, ... (Nomad's
 * logs block). The task can write its logs dir, so every file is opened from a dir fd taken
 * once at start, with O_NOFOLLOW, and a new file is always a fresh inode (O_EXCL): a symlink
 * or hard link the task plants under a log name is never written through. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "monitor.h"

/* One buffer for both streams: the monitor is single-threaded. */
static char buf[16384];

static void file_name(const struct log_sink *s, unsigned index, char *out, size_t len) {
  snprintf(out, len, "%s.%u", s->name, index);
}

/* A new, empty file at `index`, whatever the task left under that name. */
static int create_fresh(struct log_sink *s, unsigned index) {
  char fn[300];
  file_name(s, index, fn, sizeof fn);
  for (int attempt = 0; attempt < 5; ++attempt) {
    unlinkat(s->dirfd, fn, 0);
    int fd = openat(s->dirfd, fn, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0644);
    if (fd >= 0 || errno != EEXIST) return fd < 0 ? -errno : fd;
  }
  return -EEXIST;
}

/* The highest and lowest index of existing files named <name>.N (getdents on the stack:
 * no readdir buffer left behind in the heap). */
static void scan(struct log_sink *s, int *found, unsigned *lo, unsigned *hi) {
  char dents[4096];
  size_t nlen = strlen(s->name);
  *found = 0;
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, dents, sizeof dents);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(dents + off);
      off += d->d_reclen;
      if (strncmp(d->d_name, s->name, nlen) != 0 || d->d_name[nlen] != '.') continue;
      const char *num = d->d_name + nlen + 1;
      char *end;
      if (*num < '0' || *num > '9') continue;
      unsigned long v = strtoul(num, &end, 10);
      if (*end != '\0' || v > 0x7fffffff) continue;
      if (!*found || v < *lo) *lo = (unsigned)v;
      if (!*found || v > *hi) *hi = (unsigned)v;
      *found = 1;
    }
  }
  close(fd);
}

int log_open(struct log_sink *s, const char *base, uint64_t max_size, unsigned max_files) {
  const char *slash = strrchr(base, '/');
  char dir[4096];
  if (slash == NULL) {
    strcpy(dir, ".");
  } else if (slash == base) {
    strcpy(dir, "/");
  } else {
    if ((size_t)(slash - base) >= sizeof dir) return -ENAMETOOLONG;
    memcpy(dir, base, (size_t)(slash - base));
    dir[slash - base] = '\0';
  }
  const char *name = slash ? slash + 1 : base;
  if (*name == '\0' || strlen(name) >= sizeof s->name - 16) return -EINVAL;
  strcpy(s->name, name);
  s->max_size = max_size ? max_size : 1;
  s->max_files = max_files ? max_files : 1;
  s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s->dirfd < 0) return -errno;

  int found;
  unsigned lo = 0, hi = 0;
  scan(s, &found, &lo, &hi);
  s->index = found ? hi : 0;
  char fn[300];
  for (unsigned i = lo; found && i + s->max_files <= hi; ++i) {
    file_name(s, i, fn, sizeof fn);
    unlinkat(s->dirfd, fn, 0);
  }
  /* Continue the live file of an earlier run, if it is a plain file of ours. */
  file_name(s, s->index, fn, sizeof fn);
  s->fd = openat(s->dirfd, fn, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  struct stat st;
  if (s->fd >= 0 && (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)) {
    close(s->fd);
    s->fd = -1;
  }
  if (s->fd < 0) {
    s->fd = create_fresh(s, s->index);
    if (s->fd < 0) return s->fd;
    st.st_size = 0;
  }
  s->size = (uint64_t)st.st_size;
  return 0;
}

static void rotate(struct log_sink *s) {
  close(s->fd);
  s->index++;
  s->fd = create_fresh(s, s->index);
  s->size = 0;
  if (s->index >= s->max_files) {
    char fn[300];
    file_name(s, s->index - s->max_files, fn, sizeof fn);
    unlinkat(s->dirfd, fn, 0);
  }
}

static void write_log(struct log_sink *s, const char *data, size_t n) {
  while (n > 0) {
    if (s->size >= s->max_size) rotate(s);
    if (s->fd < 0) return; /* cannot create the next file: drop rather than block the task */
    size_t chunk = n;
    if (chunk > s->max_size - s->size) chunk = (size_t)(s->max_size - s->size);
    ssize_t w = write(s->fd, data, chunk);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* disk full: the task goes on, its output is lost */
    s->size += (uint64_t)w;
    data += w;
    n -= (size_t)w;
  }
}

int log_pump(struct log_sink *s) {
  for (int rounds = 0; rounds < 64; ++rounds) { /* then let the other fds have a turn */
    ssize_t n = read(s->pipe, buf, sizeof buf);
    if (n > 0) {
      write_log(s, buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    close(s->pipe);
    s->pipe = -1;
    return 1;
  }
  return 0;
}
