/*
 * OP_SYNC and OP_HOOK: the points where the init stops for tsrun (to apply cgroups, write state, run its own
 * hooks) and the OCI hooks that must run inside the container's namespaces (createContainer, startContainer).
 * The hook stdin is the state JSON tsrun sent in the last FRAME_OK.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "protocol.h"

static char *hook_stdin = NULL;
static size_t hook_stdin_len = 0;

void op_sync(const struct op *op) {
  const char *label = op_str(op, 0);
  struct frame f;
  if (frame_send(FRAME_SYNC, label, op->args[0].len) < 0) fail("sync %s: send", label);
  if (frame_recv(&f) < 0) {
    if (errno == 0) fail_status(1, "sync %s: tsrun closed the channel", label);
    fail("sync %s: receive", label);
  }
  if (f.type == FRAME_ABORT) _exit(1); /* tsrun decided; it needs no message from us */
  if (f.type != FRAME_OK) fail_status(1, "sync %s: unexpected frame type %u", label, f.type);
  if (f.len > 0) {
    free(hook_stdin);
    hook_stdin = f.payload;
    hook_stdin_len = f.len;
  } else {
    free(f.payload);
  }
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void op_hook(const struct op *op) {
  unsigned i = 3;
  const char *label = op_str(op, 0), *path = op_str(op, 1);
  int64_t timeout_s = op_int(op, 2);
  char **argv = op_strv(op, &i);
  char **env = op_strv(op, &i);
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) fail("%s hook %s: pipe", label, path);
  pid_t pid = fork();
  if (pid < 0) fail("%s hook %s: fork", label, path);
  /* Both sides set the group, so kill(-pid) works whichever runs first. */
  if (pid > 0) setpgid(pid, pid);
  if (pid == 0) {
    /* The hook shares our stdout and stderr (tsrun's, or the container's console). Its own process group lets a
     * timeout kill whatever it started too; otherwise a grandchild holding stdout would outlive the kill. */
    if (dup2(in[0], 0) < 0) _exit(127);
    setpgid(0, 0);
    reset_signals();
    execve(path, argv, env);
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(in[0]);
  /* Feed stdin without blocking, so a hook that never reads it cannot hang us past the timeout. */
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t off = 0;
  int wfd = in[1];
  if (hook_stdin_len == 0) {
    close(wfd);
    wfd = -1;
  }
  long long deadline = timeout_s > 0 ? now_ms() + timeout_s * 1000 : 0;
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r < 0 && errno != EINTR) fail("%s hook %s: wait", label, path);
    if (r == pid) break;
    if (deadline && now_ms() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      if (wfd >= 0) close(wfd);
      fail_status(1, "%s hook %s: timed out after %llds", label, path, (long long)timeout_s);
    }
    if (wfd >= 0) {
      ssize_t n = write(wfd, hook_stdin + off, hook_stdin_len - off);
      if (n > 0) off += (size_t)n;
      /* EPIPE: the hook closed its stdin, which is its right. */
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || off == hook_stdin_len) {
        close(wfd);
        wfd = -1;
        continue;
      }
      struct pollfd p = {.fd = wfd, .events = POLLOUT};
      poll(&p, 1, 20);
    } else {
      /* Polling waitpid keeps this loop single and simple; a hook's runtime dwarfs a 10 ms wake-up. */
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  if (wfd >= 0) close(wfd);
  if (WIFSIGNALED(status)) fail_status(1, "%s hook %s: killed by signal %d", label, path, WTERMSIG(status));
  if (WEXITSTATUS(status) != 0) fail_status(1, "%s hook %s: exit status %d", label, path, WEXITSTATUS(status));
  free(argv);
  free(env);
}
