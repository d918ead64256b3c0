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
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "executor.h"

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

void op_console(const struct op *op) {
  const char *ptmx = op_str(op, 0);
  int64_t rows = op_int(op, 1), cols = op_int(op, 2), bind_console = op_int(op, 3);
  int sock = env_fd("_TSRUN_CONSOLE");
  if (sock < 0) fail_status(1, "console: _TSRUN_CONSOLE is not set");

  int master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("console: open %s", ptmx);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("console: unlockpt %s", ptmx);
  unsigned ptn;
  if (ioctl(master, TIOCGPTN, &ptn) < 0) fail("console: ptsname %s", ptmx);
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%u", ptn);
  /* TIOCGPTPEER opens the slave through the master, so no path lookup can be raced to a different file; the
   * name is the fallback for kernels before 4.13. */
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("console: open %s", name);
  if (rows > 0 || cols > 0) {
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) fail("console: set window size of %s", name);
  }
  if (bind_console) {
    /* /dev/console must exist as a mount target; a plain file is enough for a bind of a char device. */
    int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOCTTY | O_CLOEXEC, 0600);
    if (fd < 0) fail("console: create /dev/console");
    close(fd);
    if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0) fail("mount %s on /dev/console", name);
  }
  send_master(sock, master, name);
  close(master);
  close(sock);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail("console: set controlling terminal %s", name);
  for (int fd = 0; fd <= 2; fd++)
    if (dup3(slave, fd, 0) < 0) fail("console: dup %s to fd %d", name, fd);
  if (slave > 2) close(slave);
}
