/*
 * OP_MOUNT_COPYUP: mount a new filesystem (a tmpfs) over a directory and copy the directory's old content into it,
 * as runc's tmpcopyup does.
 *
 * runc mounts the tmpfs on a scratch directory, copies by path and moves the mount over. We need no scratch
 * directory (it would sit on the host's /tmp or in the rootfs): the directory is opened inside the root before the
 * mount, and that fd keeps naming the covered directory, so the walk reads the old content through it while the new
 * mount, opened the same way after, receives it. Every step is openat & co. on a directory fd with one component
 * read from getdents and O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: a symlink is copied as a link, never followed, and no
 * name can climb out with "..". What to mount and where is the plan's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"

#define PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
/* Deep enough for any image; bounds the fds held open by the walk (two per level). */
#define MAX_DEPTH 128

static const char *g_dest; /* the op's target, for error messages */

static void copy_data(int from, int to, const char *name) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("tmpcopyup %s: read %s", g_dest, name);
    if (n == 0) return;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(to, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail("tmpcopyup %s: write %s", g_dest, name);
      off += w;
    }
  }
}

/* Owner, then mode (chown clears set-id bits), then times, on an fd of the copy. */
static void set_attrs(int fd, const struct stat *st, const char *name) {
  if (fchown(fd, st->st_uid, st->st_gid) < 0) fail("tmpcopyup %s: chown %s", g_dest, name);
  if (fchmod(fd, st->st_mode & 07777) < 0) fail("tmpcopyup %s: chmod %s", g_dest, name);
  struct timespec ts[2] = {st->st_atim, st->st_mtim};
  if (futimens(fd, ts) < 0) fail("tmpcopyup %s: set times of %s", g_dest, name);
}

/* The same for an entry that cannot be opened for I/O (a link, a device, a fifo, a socket). */
static void set_attrs_at(int dir, const char *name, const struct stat *st) {
  if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0) fail("tmpcopyup %s: chown %s", g_dest, name);
  /* mknodat took the mode with a zero umask; a link has no mode of its own. */
  struct timespec ts[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0) fail("tmpcopyup %s: set times of %s", g_dest, name);
}

static void copy_dir(int from, int to, int depth);

static void copy_entry(int from, int to, const char *name, int depth) {
  struct stat st;
  if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail("tmpcopyup %s: stat %s", g_dest, name);
  switch (st.st_mode & S_IFMT) {
  case S_IFDIR: {
    if (depth >= MAX_DEPTH) {
      errno = ELOOP;
      fail("tmpcopyup %s: %s is nested too deep", g_dest, name);
    }
    int src = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0) fail("tmpcopyup %s: open %s", g_dest, name);
    if (mkdirat(to, name, 0700) < 0) fail("tmpcopyup %s: mkdir %s", g_dest, name);
    int dst = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0) fail("tmpcopyup %s: open copy of %s", g_dest, name);
    copy_dir(src, dst, depth + 1);
    /* After the content: the times would move with every entry made, and the mode may forbid writing. */
    set_attrs(dst, &st, name);
    close(src);
    close(dst);
    return;
  }
  case S_IFREG: {
    int src = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (src < 0) fail("tmpcopyup %s: open %s", g_dest, name);
    int dst = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (dst < 0) fail("tmpcopyup %s: create %s", g_dest, name);
    copy_data(src, dst, name);
    set_attrs(dst, &st, name);
    close(src);
    close(dst);
    return;
  }
  case S_IFLNK: {
    char target[4096];
    ssize_t n = readlinkat(from, name, target, sizeof target - 1);
    if (n < 0) fail("tmpcopyup %s: readlink %s", g_dest, name);
    target[n] = 0;
    if (symlinkat(target, to, name) < 0) fail("tmpcopyup %s: symlink %s", g_dest, name);
    set_attrs_at(to, name, &st);
    return;
  }
  default: /* character and block devices, fifos, sockets */
    if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) fail("tmpcopyup %s: mknod %s", g_dest, name);
    set_attrs_at(to, name, &st);
  }
}

static void copy_dir(int from, int to, int depth) {
  int rfd = dup(from);
  if (rfd < 0) fail("tmpcopyup %s: dup", g_dest);
  DIR *d = fdopendir(rfd);
  if (!d) fail("tmpcopyup %s: opendir", g_dest);
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno) fail("tmpcopyup %s: readdir", g_dest);
      break;
    }
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    copy_entry(from, to, e->d_name, depth);
  }
  closedir(d);
}

void op_mount_copyup(const struct op *op) {
  const char *src = op_str(op, 0), *dest = op_str(op, 1), *fstype = op_str(op, 2), *data = op_str(op, 4);
  unsigned long flags = (unsigned long)op_int(op, 3);
  /* A new filesystem only: a bind, remount, move or propagation change has no empty mount to fill. */
  if (flags & (MS_BIND | MS_REMOUNT | MS_MOVE | PROPAGATION))
    fail_status(1, "plan: mount_copyup %s: flags %#lx are not a new mount", dest, flags);
  g_dest = dest;

  int lower = open_in_root(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (lower < 0) fail("tmpcopyup %s: open", dest);
  struct stat lst;
  if (fstat(lower, &lst) < 0) fail("tmpcopyup %s: stat", dest);

  struct tgt t;
  if (tgt_open(&t, dest, O_NOFOLLOW) < 0) fail("mount: open %s in the root", dest);
  if (mount(*src ? src : NULL, t.path, *fstype ? fstype : NULL, flags, *data ? data : NULL) < 0)
    fail("mount %s on %s", *src ? src : *fstype ? fstype : "none", dest);
  tgt_close(&t);

  int upper = open_in_root(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (upper < 0) fail("tmpcopyup %s: open the new mount", dest);
  struct stat ust;
  if (fstat(upper, &ust) < 0) fail("tmpcopyup %s: stat the new mount", dest);
  if (ust.st_dev == lst.st_dev && ust.st_ino == lst.st_ino) {
    errno = EXDEV;
    fail("tmpcopyup %s: the new mount is not on top of the directory", dest);
  }
  /* Exact modes for the nodes made below; restored before the op ends. */
  mode_t old = umask(0);
  copy_dir(lower, upper, 0);
  umask(old);
  /* The mount's root takes the directory's permission bits, as runc's chmod after a tmpfs mount. */
  if (fchmod(upper, lst.st_mode & 07777) < 0) fail("tmpcopyup %s: chmod", dest);
  close(upper);
  close(lower);
}
