/*
 * OP_CONSOLE: allocate the container's terminal from its own devpts (so the pty belongs to the container's devpts
 * instance), hand the master to tsrun over _TSRUN_CONSOLE, and make the slave our controlling terminal and stdio.
 * The plan puts OP_SETSID before this: TIOCSCTTY needs a session leader without a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "executor.h"

#ifndef DEVPTS_SUPER_MAGIC
#define DEVPTS_SUPER_MAGIC 0x1cd1
#endif

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* One message: the slave's name as payload (as runc sends it) and the master as the only SCM_RIGHTS fd. */
static void send_master(int sock, int master, const char *name) {
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  memset(u.buf, 0, sizeof u.buf);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) fail("console: send pty master");
}

/*
 * The ptmx must be the multiplexer of a devpts instance (CVE-2025-52565: a container that puts something else at
 * its /dev/pts/ptmx, e.g. a bind of a host file, must not get us to open, ioctl or bind that): devpts magic,
 * inode 2, character device 5:2.
 */
static void check_ptmx(int fd, const char *path) {
  struct statfs sfs;
  struct stat st;
  if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) fail("console: stat %s", path);
  if (sfs.f_type != DEVPTS_SUPER_MAGIC || st.st_ino != 2 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2)) {
    fail_status(1, "console: %s is not a devpts ptmx (fs %#lx, inode %lu, device %u:%u)", path, (unsigned long)sfs.f_type,
         (unsigned long)st.st_ino, major(st.st_rdev), minor(st.st_rdev));
  }
}

/* A pty slave: a character device of devpts with a UNIX98 slave major (136-143). */
static void check_slave(int fd, const char *name) {
  struct statfs sfs;
  struct stat st;
  if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) fail("console: stat %s", name);
  if (sfs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || major(st.st_rdev) < 136 || major(st.st_rdev) > 143) {
    fail_status(1, "console: %s is not a pty slave (fs %#lx, device %u:%u)", name, (unsigned long)sfs.f_type,
         major(st.st_rdev), minor(st.st_rdev));
  }
}

/* Opens the ptmx: checked through an O_PATH fd first (nothing else is opened), then opened and checked again. */
static int open_ptmx(const char *ptmx) {
  int pfd = open_in_root(ptmx, O_PATH | O_NOFOLLOW, 0);
  if (pfd < 0) fail("console: open %s", ptmx);
  check_ptmx(pfd, ptmx);
  char buf[FD_PATH_MAX];
  const char *via = fd_path(pfd, buf, ptmx);
  int master = open(via, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("console: open %s", ptmx);
  close(pfd);
  check_ptmx(master, ptmx);
  return master;
}

/*
 * The /dev/console bind target: created if absent, and then it must be a file or a character device, never a
 * symlink or a directory, so the bind cannot land elsewhere. Returns an O_PATH fd of it.
 */
static int console_target(void) {
  int fd = open_in_root("/dev/console", O_PATH | O_NOFOLLOW, 0);
  if (fd < 0 && errno == ENOENT) {
    const char *name;
    int dir = open_parent_in_root("/dev/console", &name);
    if (dir < 0) fail("console: open /dev");
    int f = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
    if (f < 0 && errno != EEXIST) fail("console: create /dev/console");
    if (f >= 0) close(f);
    close(dir);
    fd = open_in_root("/dev/console", O_PATH | O_NOFOLLOW, 0);
  }
  if (fd < 0) fail("console: open /dev/console");
  struct stat st;
  if (fstat(fd, &st) < 0) fail("console: stat /dev/console");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
    fail_status(1, "console: /dev/console is not a file or a character device (mode %o)", (unsigned)st.st_mode);
  }
  return fd;
}

void op_console(const struct op *op) {
  const char *ptmx = op_str(op, 0);
  int64_t rows = op_int(op, 1), cols = op_int(op, 2), bind_console = op_int(op, 3);
  int sock = env_fd("_TSRUN_CONSOLE");
  if (sock < 0) fail_status(1, "console: _TSRUN_CONSOLE is not set");

  int master = open_ptmx(ptmx);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("console: unlockpt %s", ptmx);
  unsigned ptn;
  if (ioctl(master, TIOCGPTN, &ptn) < 0) fail("console: ptsname %s", ptmx);
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%u", ptn);
  /* TIOCGPTPEER opens the slave through the master, so no path lookup can be raced to a different file; the
   * name is the fallback for kernels before 4.13. */
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) slave = open_in_root(name, O_RDWR | O_NOCTTY | O_NOFOLLOW, 0);
  if (slave < 0) fail("console: open %s", name);
  check_slave(slave, name);
  if (rows > 0 || cols > 0) {
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) fail("console: set window size of %s", name);
  }
  if (bind_console) {
    /* The slave itself (by its fd) goes on /dev/console (checked above), not whatever its name now leads to. */
    int target = console_target();
    char sbuf[FD_PATH_MAX], tbuf[FD_PATH_MAX];
    const char *src = fd_path(slave, sbuf, name), *dst = fd_path(target, tbuf, "/dev/console");
    if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail("mount %s on /dev/console", name);
    close(target);
  }
  send_master(sock, master, name);
  close(master);
  close(sock);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail("console: set controlling terminal %s", name);
  for (int fd = 0; fd <= 2; fd++)
    if (dup3(slave, fd, 0) < 0) fail("console: dup %s to fd %d", name, fd);
  if (slave > 2) close(slave);
}
