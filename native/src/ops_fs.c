/* Filesystem ops inside the new root: directories, device nodes, symlinks, bind-mount targets. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "executor.h"

void op_mkdir_all(const struct op *op) {
  const char *path = op_str(op, 0);
  mode_t mode = (mode_t)op_int(op, 1);
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

void op_mknod(const struct op *op) {
  const char *path = op_str(op, 0);
  mode_t mode = (mode_t)op_int(op, 1);
  dev_t dev = (dev_t)op_int(op, 2);
  if (mknod(path, mode, dev) < 0) fail("mknod %s", path);
  if (lchown(path, (uid_t)op_int(op, 3), (gid_t)op_int(op, 4)) < 0) fail("chown %s", path);
  /* The umask may have trimmed the mode; device permissions are the plan's, exactly. */
  if (chmod(path, mode & 07777) < 0) fail("chmod %s", path);
}

void op_symlink(const struct op *op) {
  const char *target = op_str(op, 0), *link = op_str(op, 1);
  if (symlink(target, link) < 0 && errno != EEXIST) fail("symlink %s to %s", link, target);
}

void op_touch(const struct op *op) {
  const char *path = op_str(op, 0);
  struct stat st;
  if (lstat(path, &st) == 0) return;
  int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, (mode_t)op_int(op, 1));
  if (fd < 0 && errno != EEXIST) fail("create %s", path);
  if (fd >= 0) close(fd);
}
