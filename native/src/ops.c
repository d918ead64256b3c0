/*
 * Dispatch of the ops that run in the init (or in stage 0 when the plan has no clone), and the one-syscall ops
 * that need no file of their own. Each op does exactly what the plan says; the order and the values are tsrun's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"
#include "protocol.h"

static void op_rlimit(const struct op *op) {
  int64_t res = op_int(op, 0);
  /* -1 on the wire is RLIM_INFINITY, which is all ones as an unsigned 64-bit value anyway. */
  struct rlimit rl = {.rlim_cur = (rlim_t)op_int(op, 1), .rlim_max = (rlim_t)op_int(op, 2)};
  if (prlimit(0, (int)res, &rl, NULL) < 0) fail("setrlimit %lld", (long long)res);
}

/*
 * The init waits here until `tsrun start` opens <state>/exec.fifo for reading. We hold only an O_PATH fd of the
 * fifo (which cannot be used for I/O), and reopen it through /proc/self/fd, as runc does: the open blocks, which
 * is the whole point.
 */
static void op_fifo_wait(void) {
  int pfd = env_fd("_TSRUN_FIFOFD");
  char path[64];
  if (pfd < 0) fail_status(1, "fifo wait: _TSRUN_FIFOFD is not set");
  snprintf(path, sizeof path, "/proc/self/fd/%d", pfd);
  /* The reopen needs the container's /proc. Checked while the channel is open, so that a masked or missing
   * /proc/self/fd fails `create` (which then cleans up) instead of the init after `create` has returned. */
  struct stat want, got;
  int probe = open(path, O_PATH | O_CLOEXEC);
  if (probe < 0) fail("reopen exec fifo through the container's %s", path);
  int same = fstat(probe, &got) == 0 && fstat(pfd, &want) == 0 && got.st_dev == want.st_dev &&
             got.st_ino == want.st_ino;
  close(probe);
  if (!same) fail_status(1, "reopen exec fifo through the container's %s: not a procfs link to it", path);
  /* Setup is over: closing the channel is how `tsrun create` learns it may return (as runc's init closes its
   * sync pipe before the fifo). A failure from here on can only reach our stderr. */
  if (g_chan >= 0) close(g_chan);
  g_chan = -1;
  int fd;
  do fd = open(path, O_WRONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("open exec fifo %s", path);
  if (write(fd, "0", 1) != 1) fail("write exec fifo");
  close(fd);
  close(pfd);
}

/* A relay on tsrun's side may have made our shared stdio pipes non-blocking; most programs do not expect that. */
static void op_stdio_blocking(void) {
  for (int fd = 0; fd <= 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) continue; /* closed stdio is the caller's business */
    if ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) fail("clear O_NONBLOCK on fd %d", fd);
  }
}

void run_op(const struct op *op) {
  switch (op->code) {
  case OP_SYNC: op_sync(op); break;
  case OP_PDEATHSIG:
    if (prctl(PR_SET_PDEATHSIG, (unsigned long)op_int(op, 0), 0, 0, 0) < 0) fail("prctl PR_SET_PDEATHSIG");
    break;
  case OP_SETSID:
    if (setsid() < 0) fail("setsid");
    break;
  case OP_SETID_ROOT: op_setid_root(); break;
  case OP_MOUNT: op_mount(op); break;
  case OP_MKDIR_ALL: op_mkdir_all(op); break;
  case OP_MKNOD: op_mknod(op); break;
  case OP_SYMLINK: op_symlink(op); break;
  case OP_TOUCH: op_touch(op); break;
  case OP_CHDIR: op_chdir(op); break;
  case OP_ROOT: root_set(op_str(op, 0)); break;
  case OP_PIVOT_ROOT: op_pivot_root(op); break;
  case OP_MOVE_ROOT: op_move_root(op); break;
  case OP_WRITE_FILE: {
    const char *path = op_str(op, 0), *data = op_str(op, 1);
    /* Opened inside the resolution root when there is one: a /proc/sys path must not be redirected by a link. */
    int fd = open_in_root(path, O_WRONLY | O_TRUNC, 0);
    if (fd < 0) fail("write: open %s", path);
    ssize_t n = write(fd, data, strlen(data));
    if (n < 0) fail("write %s", path);
    if ((size_t)n != strlen(data)) {
      errno = EIO;
      fail("write: short write to %s", path);
    }
    close(fd);
    break;
  }
  case OP_SETHOSTNAME: {
    const char *name = op_str(op, 0);
    if (sethostname(name, strlen(name)) < 0) fail("sethostname %s", name);
    break;
  }
  case OP_SETDOMAINNAME: {
    const char *name = op_str(op, 0);
    if (setdomainname(name, strlen(name)) < 0) fail("setdomainname %s", name);
    break;
  }
  case OP_MASK_PATH: op_mask_path(op); break;
  case OP_READONLY_PATH: op_readonly_path(op); break;
  case OP_LOOPBACK_UP: op_loopback_up(); break;
  case OP_CONSOLE: op_console(op); break;
  case OP_RLIMIT: op_rlimit(op); break;
  case OP_UMASK: umask((mode_t)op_int(op, 0)); break;
  case OP_NO_NEW_PRIVS:
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("prctl PR_SET_NO_NEW_PRIVS");
    break;
  case OP_CAP_BOUNDING: op_cap_bounding(op); break;
  case OP_SETUSER: op_setuser(op); break;
  case OP_CAPS: op_caps(op); break;
  case OP_FIFO_WAIT: op_fifo_wait(); break;
  case OP_CLOSE_FROM: {
    int64_t first = op_int(op, 0);
    if (first < 0 || first > 65535) fail_status(1, "plan: close_from: bad fd %lld", (long long)first);
    cloexec_from((unsigned)first);
    break;
  }
  case OP_LOOKUP: op_lookup(op); break;
  case OP_EXEC: op_exec(op); break;
  case OP_STDIO_BLOCKING: op_stdio_blocking(); break;
  case OP_HOOK: op_hook(op); break;
  case OP_SECCOMP: op_seccomp(op); break;
  case OP_MOUNT_COPYUP: op_mount_copyup(op); break;
  case OP_UNSHARE: op_unshare(op); break;
  case OP_SESSION_KEYRING: op_session_keyring(op); break;
  default:
    /* Stage ops (setns, clone, maps) were handled by main.c; reaching here means the plan put one in the init. */
    fail_status(1, "plan: %s cannot run here", op_name(op->code));
  }
}
