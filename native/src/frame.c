/*
 * The channel to tsrun: length-prefixed frames (protocol.h) on the _TSRUN_INITPIPE socket, and the error path.
 * Every failure in the executor ends here: one FRAME_ERROR with "<what failed> <object>: <strerror>", then exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "executor.h"
#include "protocol.h"

int g_chan = -1;
pid_t g_victim = 0;
int g_debug = 0;

/* MSG_NOSIGNAL: a vanished tsrun must give us EPIPE to report on stderr, not a silent SIGPIPE death. */
static int send_all(const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = send(g_chan, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The wire is little-endian and the headers below are written as native u32s. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the frame header assumes a little-endian host");

int frame_send(uint32_t type, const void *payload, uint32_t len) {
  uint32_t hdr[2] = {type, len};
  if (g_chan < 0) {
    errno = EBADF;
    return -1;
  }
  if (send_all(hdr, sizeof hdr) < 0) return -1;
  return len ? send_all(payload, len) : 0;
}

static int read_all(void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(g_chan, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = 0; /* EOF */
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int frame_recv(struct frame *f) {
  uint32_t hdr[2];
  if (read_all(hdr, sizeof hdr) < 0) return -1;
  /* A plan is a few KiB; refuse absurd lengths rather than trying to allocate them. */
  if (hdr[1] > (64u << 20)) {
    errno = EMSGSIZE;
    return -1;
  }
  f->type = hdr[0];
  f->len = hdr[1];
  f->payload = malloc((size_t)f->len + 1);
  if (!f->payload) return -1;
  if (read_all(f->payload, f->len) < 0) return -1;
  f->payload[f->len] = 0;
  return 0;
}

static void vreport(uint32_t type, const char *fmt, va_list ap, const char *suffix) {
  char msg[4096];
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  if (suffix) n += snprintf(msg + n, sizeof msg - (size_t)n, ": %s", suffix);
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  if (frame_send(type, msg, (uint32_t)n) < 0 && type == FRAME_ERROR) {
    /* The channel is gone: stderr is the last place anyone may look. */
    dprintf(2, "tsrun-exec: %s\n", msg);
  }
}

void logf_(const char *fmt, ...) {
  va_list ap;
  if (!g_debug) return;
  va_start(ap, fmt);
  vreport(FRAME_LOG, fmt, ap, NULL);
  va_end(ap);
}

static _Noreturn void die(int status) {
  /* Stage 0 failing after the clone: the child would wait forever for its release; tsrun has its pid and reaps it. */
  if (g_victim > 0) kill(g_victim, SIGKILL);
  _exit(status);
}

void fail(const char *fmt, ...) {
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  vreport(FRAME_ERROR, fmt, ap, strerror(err));
  va_end(ap);
  die(1);
}

void fail_status(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(FRAME_ERROR, fmt, ap, NULL);
  va_end(ap);
  die(status);
}
