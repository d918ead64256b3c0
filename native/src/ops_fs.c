/*
 * Filesystem ops inside the new root: directories, device nodes, symlinks, bind-mount targets. With a resolution
 * root (OP_ROOT) each one acts in a directory opened inside it (mkdirat, mknodat, symlinkat, openat with
 * O_NOFOLLOW), so no link can lead it out; without one, paths are used as given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "executor.h"

/* mkdir -p of a path below the root: each component is created in its parent, opened inside the root. */
static void mkdir_all_in_root(const char *path, mode_t mode) {
  char buf[4096];
  const char *rel = below_root(path);
  size_t len = strlen(rel);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    fail("mkdir %s", path);
  }
  memcpy(buf, rel, len + 1);
  int parent = open_below_root(".", O_PATH | O_DIRECTORY, 0);
  if (parent < 0) fail("mkdir %s: open the root", path);
  for (char *p = buf;; p++) {
    if (*p != '/' && *p != 0) continue;
    char saved = *p;
    *p = 0;
    const char *name = strrchr(buf, '/');
    name = name ? name + 1 : buf;
    if (*name && strcmp(name, ".") != 0) {
      int fd = open_below_root(buf, O_PATH | O_DIRECTORY, 0);
      if (fd < 0 && errno == ENOENT) {
        /* The parent is the directory the walk so far resolved to, inside the root whatever links it took. */
        if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) fail("mkdir %s", path);
        fd = open_below_root(buf, O_PATH | O_DIRECTORY, 0);
      }
      if (fd < 0) fail("mkdir %s: %s", path, buf);
      close(parent);
      parent = fd;
    }
    if (saved == 0) break;
    *p = saved;
  }
  close(parent);
}

void op_mkdir_all(const struct op *op) {
  const char *path = op_str(op, 0);
  mode_t mode = (mode_t)op_int(op, 1);
  if (root_active()) {
    mkdir_all_in_root(path, mode);
    return;
  }
  char buf[4096];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof buf) {
    errno = len ? ENAMETOOLONG : ENOENT;
    fail("mkdir %s", path);
  }
  memcpy(buf, path, len + 1);
  /* Create each component in turn; one that exists is fine as long as it is a directory (or a link to one). */
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != 0) continue;
    char saved = *p;
    *p = 0;
    int r = mkdir(buf, mode);
    if (r < 0 && errno != EEXIST) fail("mkdir %s", buf);
    if (r < 0) {
      struct stat st;
      if (stat(buf, &st) < 0) fail("mkdir %s: stat", buf);
      if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        fail("mkdir %s", buf);
      }
    }
    if (saved == 0) break;
    *p = saved;
  }
}

/* The directory that holds `path` (AT_FDCWD and the path itself without a root) and the name in it. */
static int parent_of(const char *path, const char **name, const char *what) {
  if (!root_active()) {
    *name = path;
    return AT_FDCWD;
  }
  int fd = open_parent_in_root(path, name);
  if (fd < 0) fail("%s %s: open parent in the root", what, path);
  return fd;
}

static void close_dir(int fd) {
  if (fd >= 0) close(fd);
}

void op_mknod(const struct op *op) {
  const char *path = op_str(op, 0), *name;
  mode_t mode = (mode_t)op_int(op, 1);
  dev_t dev = (dev_t)op_int(op, 2);
  int dir = parent_of(path, &name, "mknod");
  if (mknodat(dir, name, mode, dev) < 0) fail("mknod %s", path);
  /* chown and chmod act on the node just made, through an fd of it: a link swapped in meanwhile is not followed. */
  int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fail("mknod %s: open", path);
  struct stat st;
  if (fstat(fd, &st) < 0) fail("mknod %s: stat", path);
  if ((st.st_mode & S_IFMT) != (mode & S_IFMT)) {
    errno = EEXIST;
    fail("mknod %s: replaced while being made", path);
  }
  if (fchownat(fd, "", (uid_t)op_int(op, 3), (gid_t)op_int(op, 4), AT_EMPTY_PATH) < 0) fail("chown %s", path);
  /* The umask may have trimmed the mode; device permissions are the plan's, exactly. */
  char buf[FD_PATH_MAX];
  if (chmod(fd_path(fd, buf, path), mode & 07777) < 0) fail("chmod %s", path);
  close(fd);
  close_dir(dir);
}

void op_symlink(const struct op *op) {
  const char *target = op_str(op, 0), *link = op_str(op, 1), *name;
  int dir = parent_of(link, &name, "symlink");
  if (symlinkat(target, dir, name) < 0 && errno != EEXIST) fail("symlink %s to %s", link, target);
  close_dir(dir);
}

void op_touch(const struct op *op) {
  const char *path = op_str(op, 0), *name;
  int dir = parent_of(path, &name, "create");
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    close_dir(dir);
    return;
  }
  int fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, (mode_t)op_int(op, 1));
  if (fd < 0 && errno != EEXIST) fail("create %s", path);
  if (fd >= 0) close(fd);
  close_dir(dir);
}

/*
 * chdir, then make sure the working directory is inside our root: a directory reached through an fd leaked from
 * outside (process.cwd = /proc/self/fd/N, CVE-2024-21626) reads "(unreachable)/..." from the kernel's getcwd.
 * With a resolution root the directory is opened inside it (no magic links) and entered with fchdir.
 */
void op_chdir(const struct op *op) {
  const char *path = op_str(op, 0);
  if (root_active()) {
    int fd = open_in_root(path, O_PATH | O_DIRECTORY, 0);
    if (fd < 0 || fchdir(fd) < 0) fail("chdir %s", path);
    close(fd);
  } else if (chdir(path) < 0) {
    fail("chdir %s", path);
  }
  char cwd[4096];
  /* The raw syscall: glibc's getcwd hides the "(unreachable)" prefix behind ENOENT, which we want to tell apart. */
  long n = syscall(SYS_getcwd, cwd, sizeof cwd);
  if (n < 0 && errno != ENAMETOOLONG) fail("chdir %s: getcwd", path);
  if (n >= 0 && cwd[0] != '/') {
    fail_status(1, "chdir %s: the working directory %s is outside the root", path, cwd);
  }
}
