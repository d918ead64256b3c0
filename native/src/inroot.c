/*
 * The resolution root (OP_ROOT): target paths resolved inside the container's root at the moment of use.
 *
 * The plan's paths were resolved by tsrun when it compiled them, but the rootfs can change between then and now
 * (an image symlink tsrun could not model, or a process racing us that swaps a directory for a symlink): a path
 * walk that follows such a link on the host side would create, mount over or mask a host file (CVE-2019-16884,
 * CVE-2021-30465). So every target is opened here with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) on an fd
 * of the root, and the syscall then acts on that fd (mount onto /proc/self/fd/<fd>, mkdirat/mknodat/symlinkat in
 * the opened parent). This file holds no policy: which root and which paths are the plan's.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"

static int g_root = -1;
static char g_root_path[4096];
static size_t g_root_len;
static int g_no_procfd = -1; /* 1 once /proc/self/fd is found missing (a container without /proc) */

void root_set(const char *path) {
  size_t len = strlen(path);
  if (len == 0 || path[0] != '/' || len >= sizeof g_root_path) {
    errno = EINVAL;
    fail("root %s", path);
  }
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("root: open %s", path);
  if (g_root >= 0) close(g_root);
  g_root = fd;
  /* "/x/" and "/x" are the same root; "/" stays "/". */
  while (len > 1 && path[len - 1] == '/') len--;
  memcpy(g_root_path, path, len);
  g_root_path[len] = 0;
  g_root_len = len;
  g_no_procfd = -1;
}

int root_active(void) { return g_root >= 0; }

void root_after_switch(void) {
  if (g_root >= 0) root_set("/");
}

/* The part of `path` below the root ("." for the root itself). A path outside it is a plan error. */
const char *below_root(const char *path) {
  if (g_root_len == 1 && path[0] == '/') {
    while (*path == '/') path++;
    return *path ? path : ".";
  }
  if (strncmp(path, g_root_path, g_root_len) != 0 || (path[g_root_len] != '/' && path[g_root_len] != 0))
    fail_status(1, "plan: %s is outside the root %s", path, g_root_path);
  path += g_root_len;
  while (*path == '/') path++;
  return *path ? path : ".";
}

int open_in_root(const char *path, int flags, mode_t mode) {
  if (g_root < 0) return open(path, flags | O_CLOEXEC, mode);
  return open_below_root(below_root(path), flags, mode);
}

int open_below_root(const char *rel, int flags, mode_t mode) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  /* EAGAIN: a rename somewhere in the tree raced the walk and the kernel could not prove ".." stayed inside;
   * retrying is safe. Bounded, so a process renaming in a loop cannot hold us here forever. */
  int fd, tries = 0;
  do fd = (int)syscall(SYS_openat2, g_root, rel, &how, sizeof how);
  while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 1000)));
  return fd;
}

int open_parent_in_root(const char *path, const char **base) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash[1] == 0) {
    errno = EINVAL;
    return -1;
  }
  *base = slash + 1;
  char dir[4096];
  size_t n = (size_t)(slash - path);
  if (n >= sizeof dir) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(dir, path, n);
  dir[n] = 0;
  return open_in_root(n ? dir : "/", O_PATH | O_DIRECTORY, 0);
}

const char *fd_path(int fd, char buf[FD_PATH_MAX], const char *fallback) {
  /* After pivot_root /proc is the container's; one without /proc gets the plain path, which the kernel already
   * confines to the new root (and without a procfs there are no magic links to escape through). */
  if (g_no_procfd < 0) g_no_procfd = access("/proc/self/fd", X_OK) < 0;
  if (g_no_procfd) return fallback;
  snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

int tgt_open(struct tgt *t, const char *path, int flags) {
  t->fd = -1;
  t->path = path;
  if (g_root < 0) return 0;
  t->fd = open_in_root(path, O_PATH | flags, 0);
  if (t->fd < 0) return -1;
  t->path = fd_path(t->fd, t->buf, path);
  return 0;
}

void tgt_close(struct tgt *t) {
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
}
