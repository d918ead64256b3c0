/* Mount ops: mount(2) with runc's bind/remount and propagation rules, the switch to the new root, masks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "executor.h"

#define PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
/* Per-mount-point flags a bind remount can change. */
#define BIND_REMOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

static const char *nul_if_empty(const char *s) { return *s ? s : NULL; }

/*
 * Remount a bind mount with new per-mount flags. Inside a user namespace the kernel locks the nosuid/nodev/noexec
 * (and atime) flags a mount had when it was propagated from a more privileged namespace, and a remount that would
 * clear them fails with EPERM; runc retries with the locked flags kept, and so do we.
 */
static int bind_remount(const char *target, unsigned long flags, const char *data) {
  unsigned long f = MS_BIND | MS_REMOUNT | (flags & (BIND_REMOUNT_FLAGS | MS_REC));
  if (mount(NULL, target, NULL, f, data) == 0) return 0;
  if (errno != EPERM) return -1;
  struct statvfs sv;
  if (statvfs(target, &sv) < 0) {
    errno = EPERM;
    return -1;
  }
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return mount(NULL, target, NULL, f, data);
}

/* The target of one mount(2) call, opened inside the resolution root; re-opened for every call, since the mount
 * just made is what the next call (remount, propagation) must act on. */
static void target(struct tgt *t, const char *path, const char *what) {
  if (tgt_open(t, path, 0) < 0) fail("%s: open %s in the root", what, path);
}

void op_mount(const struct op *op) {
  const char *src = op_str(op, 0), *dest = op_str(op, 1), *fstype = op_str(op, 2), *data = op_str(op, 4);
  unsigned long flags = (unsigned long)op_int(op, 3);
  unsigned long prop = flags & PROPAGATION, base = flags & ~PROPAGATION;
  const char *what = *src ? src : *fstype ? fstype : "none";
  struct tgt t;

  /* Propagation is a mount(2) call of its own: the kernel takes only the propagation flags (and MS_REC) in it and
   * ignores source and type. So a plan op that is only propagation is just that call. */
  if (prop && !(base & ~MS_REC)) {
    target(&t, dest, "mount propagation");
    if (mount(NULL, t.path, NULL, prop | (base & MS_REC), NULL) < 0) fail("mount propagation of %s", dest);
    tgt_close(&t);
    return;
  }
  target(&t, dest, "mount");
  if (base & MS_REMOUNT) {
    /* A remount is one call as given (e.g. the read-only rootfs: MS_BIND|MS_REMOUNT|MS_RDONLY on "/"); with
     * MS_BIND it changes only the mount point's flags, and gets the locked-flags retry. */
    int r = (base & MS_BIND) ? bind_remount(t.path, base, nul_if_empty(data))
                             : mount(NULL, t.path, nul_if_empty(fstype), base, nul_if_empty(data));
    if (r < 0) fail("remount %s", dest);
  } else if (base & MS_BIND) {
    /* A bind mount ignores every flag but MS_REC: the new mount copies the source's flags. Getting read-only,
     * nosuid and the like takes a second call, MS_REMOUNT|MS_BIND, which changes only this mount point. */
    if (mount(src, t.path, nul_if_empty(fstype), base & (MS_BIND | MS_REC), NULL) < 0) fail("mount %s on %s", what, dest);
    if (base & BIND_REMOUNT_FLAGS) {
      tgt_close(&t);
      target(&t, dest, "remount");
      if (bind_remount(t.path, base, nul_if_empty(data)) < 0) fail("remount %s", dest);
    }
  } else if (mount(nul_if_empty(src), t.path, nul_if_empty(fstype), base, nul_if_empty(data)) < 0) {
    fail("mount %s on %s", what, dest);
  }
  tgt_close(&t);
  if (prop) {
    target(&t, dest, "mount propagation");
    if (mount(NULL, t.path, NULL, prop | (base & MS_REC), NULL) < 0) fail("mount propagation of %s", dest);
    tgt_close(&t);
  }
}

/*
 * pivot_root(".", ".") stacks the old root on top of the new one at "/", so no put_old directory is needed inside
 * the rootfs (which may be read-only). We then make the old root a slave, so the detach below does not propagate
 * to the host, and lazily unmount it.
 */
void op_pivot_root(const struct op *op) {
  const char *root = op_str(op, 0);
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0) fail("pivot_root: open /");
  int newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) fail("pivot_root: open %s", root);
  if (fchdir(newroot) < 0) fail("pivot_root: chdir %s", root);
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root %s", root);
  /* The kernel leaves cwd on the old root today, but does not promise it: go there explicitly. */
  if (fchdir(oldroot) < 0) fail("pivot_root: chdir to old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("pivot_root: make old root rslave");
  if (umount2(".", MNT_DETACH) < 0) fail("pivot_root: unmount old root");
  if (chdir("/") < 0) fail("pivot_root: chdir /");
  close(oldroot);
  close(newroot);
  root_after_switch();
}

/* --no-pivot (a rootfs on a ramdisk cannot be pivoted away from): move the rootfs mount over / and chroot into it. */
void op_move_root(const struct op *op) {
  const char *root = op_str(op, 0);
  if (chdir(root) < 0) fail("move root: chdir %s", root);
  if (mount(root, "/", NULL, MS_MOVE, NULL) < 0) fail("move root: mount --move %s /", root);
  if (chroot(".") < 0) fail("chroot %s", root);
  if (chdir("/") < 0) fail("move root: chdir /");
  root_after_switch();
}

/*
 * /dev/null, checked: a container that replaced it (a symlink to a /proc file, a regular file) would otherwise
 * have that bound over every masked file, readable and writable (CVE-2025-31133).
 */
static int open_dev_null(void) {
  int fd = open_in_root("/dev/null", O_PATH | O_NOFOLLOW, 0);
  if (fd < 0) fail("mask: open /dev/null");
  struct stat st;
  if (fstat(fd, &st) < 0) fail("mask: stat /dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    fail_status(1, "mask: /dev/null is not the null device (mode %o, device %u:%u)", (unsigned)st.st_mode,
                major(st.st_rdev), minor(st.st_rdev));
  return fd;
}

/*
 * Hide a path: /dev/null over a file, an empty read-only tmpfs over a directory. A path that is absent is hidden.
 * With a resolution root the last component is not followed: a symlink at a masked path is itself covered (its
 * target, wherever it points, is left alone), so an image cannot turn a mask into a mount over another file.
 */
void op_mask_path(const struct op *op) {
  const char *path = op_str(op, 0);
  struct tgt t;
  if (tgt_open(&t, path, O_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    fail("mask %s: open", path);
  }
  struct stat st;
  if ((t.fd >= 0 ? fstat(t.fd, &st) : stat(path, &st)) < 0) {
    if (errno == ENOENT) return;
    fail("mask %s: stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", t.path, "tmpfs", MS_RDONLY, nul_if_empty(op->argc > 1 ? op_str(op, 1) : "")) < 0)
      fail("mask %s: mount tmpfs", path);
  } else {
    const char *null = "/dev/null";
    char buf[FD_PATH_MAX];
    int nfd = -1;
    if (root_active()) {
      nfd = open_dev_null();
      null = fd_path(nfd, buf, "/dev/null");
    }
    if (mount(null, t.path, NULL, MS_BIND, NULL) < 0) fail("mask %s: mount /dev/null", path);
    if (nfd >= 0) close(nfd);
  }
  tgt_close(&t);
}

void op_readonly_path(const struct op *op) {
  const char *path = op_str(op, 0);
  struct tgt t;
  if (tgt_open(&t, path, 0) < 0) {
    if (errno == ENOENT) return;
    fail("mount %s on %s: open", path, path);
  }
  if (mount(t.path, t.path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return;
    fail("mount %s on %s", path, path);
  }
  tgt_close(&t);
  target(&t, path, "remount");
  if (bind_remount(t.path, MS_RDONLY | MS_REC, NULL) < 0) fail("remount %s read-only", path);
  tgt_close(&t);
}
