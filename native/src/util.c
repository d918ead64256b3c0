/* Small helpers shared by several ops: env-named fds, whole-file writes, close-on-exec sweeps. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int env_fd(const char *name) {
  const char *v = getenv(name);
  char *end;
  if (!v || !*v) return -1;
  long fd = strtol(v, &end, 10);
  if (*end || fd < 0 || fd > 65535) fail_status(1, "bad %s: %s", name, v);
  return (int)fd;
}

void write_file(const char *path, const char *data, size_t len, const char *what) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) fail("%s: open %s", what, path);
  /* Files under /proc and /proc/sys take one write; a short write there is an error, not a retry. */
  ssize_t n = write(fd, data, len);
  if (n < 0) fail("%s: write %s", what, path);
  if ((size_t)n != len) {
    errno = EIO;
    fail("%s: short write to %s", what, path);
  }
  close(fd);
}

/*
 * Mark every fd from `first` up close-on-exec, so nothing tsrun (or its parent) leaked reaches the container
 * (CVE-2024-21626 was such a leak). close_range(2) does it in one call on 5.11+; /proc/self/fd is the fallback.
 */
void cloexec_from(unsigned first) {
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  DIR *d = opendir("/proc/self/fd");
  if (!d) fail("close_range from %u", first);
  int self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd < (int)first || fd == self) continue;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  closedir(d);
}
