/*
 * OP_SECCOMP: load a seccomp program that tsrun compiled (libseccomp, in TypeScript) into this process. The
 * executor knows nothing of profiles: it checks the program's framing, loads it with the flags it was given, and,
 * when the kernel hands back a notification listener, tells tsrun where it is and waits for tsrun to take it.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"
#include "protocol.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* tsrun copies the listener out of our fd table (pidfd_getfd) while we wait; our own copy must then go, or the
 * container's process would inherit a way to answer its own notifications. */
static void hand_over_listener(int fd) {
  uint32_t n = (uint32_t)fd;
  struct frame f;
  if (frame_send(FRAME_SECCOMP_FD, &n, sizeof n) < 0) fail("seccomp: send listener fd");
  if (frame_recv(&f) < 0) {
    if (errno == 0) fail_status(1, "seccomp: tsrun closed the channel");
    fail("seccomp: receive");
  }
  free(f.payload);
  if (f.type == FRAME_ABORT) _exit(1); /* tsrun reported the error itself */
  if (f.type != FRAME_OK) fail_status(1, "seccomp: unexpected frame type %u", f.type);
  close(fd);
}

void op_seccomp(const struct op *op) {
  const struct arg *prog = op_bytes(op, 0);
  uint64_t flags = (uint64_t)op_int(op, 1);
  size_t n = prog->len / sizeof(struct sock_filter);
  if (prog->len == 0 || prog->len % sizeof(struct sock_filter) != 0 || n > BPF_MAXINSNS)
    fail_status(1, "plan: seccomp: a program of %u bytes is not 1 to %d instructions", prog->len, BPF_MAXINSNS);
  /* The argument buffer comes from malloc, so it is aligned for struct sock_filter. */
  struct sock_fprog fprog = {.len = (unsigned short)n, .filter = (struct sock_filter *)(void *)prog->p};
  long ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned long)flags, &fprog);
  if (ret < 0) fail("seccomp set filter (flags %#llx)", (unsigned long long)flags);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) hand_over_listener((int)ret);
}
