/*
 * Decoding FRAME_PLAN: u16 opcode, u16 argc, then argc × (u32 length, bytes). The whole plan is decoded and checked
 * for framing before the first op runs, so a malformed plan fails before anything has changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "protocol.h"

static const char *const names[] = {
    [OP_SETNS] = "setns",           [OP_OOM_SCORE_ADJ] = "oom_score_adj", [OP_CLONE] = "clone",
    [OP_SETGROUPS] = "setgroups",   [OP_UIDMAP] = "uid_map",              [OP_GIDMAP] = "gid_map",
    [OP_INIT_BEGIN] = "init_begin", [OP_SYNC] = "sync",                   [OP_PDEATHSIG] = "pdeathsig",
    [OP_SETSID] = "setsid",         [OP_SETID_ROOT] = "setid_root",       [OP_MOUNT] = "mount",
    [OP_MKDIR_ALL] = "mkdir_all",   [OP_MKNOD] = "mknod",                 [OP_SYMLINK] = "symlink",
    [OP_TOUCH] = "touch",           [OP_CHDIR] = "chdir",                 [OP_PIVOT_ROOT] = "pivot_root",
    [OP_MOVE_ROOT] = "move_root",   [OP_WRITE_FILE] = "write_file",       [OP_SETHOSTNAME] = "sethostname",
    [OP_SETDOMAINNAME] = "setdomainname", [OP_MASK_PATH] = "mask_path",   [OP_READONLY_PATH] = "readonly_path",
    [OP_LOOPBACK_UP] = "loopback_up", [OP_CONSOLE] = "console",           [OP_RLIMIT] = "rlimit",
    [OP_UMASK] = "umask",           [OP_NO_NEW_PRIVS] = "no_new_privs",   [OP_CAP_BOUNDING] = "cap_bounding",
    [OP_SETUSER] = "setuser",       [OP_CAPS] = "caps",                   [OP_FIFO_WAIT] = "fifo_wait",
    [OP_CLOSE_FROM] = "close_from", [OP_EXEC] = "exec",                   [OP_STDIO_BLOCKING] = "stdio_blocking",
    [OP_HOOK] = "hook", [OP_LOOKUP] = "lookup", [OP_SECCOMP] = "seccomp", [OP_ROOT] = "root",
    [OP_MOUNT_COPYUP] = "mount_copyup", [OP_UNSHARE] = "unshare", [OP_SESSION_KEYRING] = "session_keyring",
};

const char *op_name(uint16_t code) {
  if (code < sizeof names / sizeof names[0] && names[code]) return names[code];
  return "unknown";
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void plan_decode(const char *buf, size_t len, struct plan *plan) {
  const unsigned char *p = (const unsigned char *)buf, *end = p + len;
  size_t cap = 0;
  plan->ops = NULL;
  plan->n = 0;
  while (p < end) {
    if (end - p < 4) fail_status(1, "plan: truncated op header at byte %zu", (size_t)(p - (const unsigned char *)buf));
    if (plan->n == cap) {
      cap = cap ? cap * 2 : 32;
      plan->ops = realloc(plan->ops, cap * sizeof *plan->ops);
      if (!plan->ops) fail("plan: allocate");
    }
    struct op *op = &plan->ops[plan->n++];
    op->code = (uint16_t)(p[0] | p[1] << 8);
    op->argc = (uint16_t)(p[2] | p[3] << 8);
    p += 4;
    if (!strcmp(op_name(op->code), "unknown")) fail_status(1, "plan: unknown opcode %u", op->code);
    op->args = calloc(op->argc ? op->argc : 1, sizeof *op->args);
    if (!op->args) fail("plan: allocate");
    for (unsigned i = 0; i < op->argc; i++) {
      if (end - p < 4) fail_status(1, "plan: %s: truncated argument %u", op_name(op->code), i);
      uint32_t n = get_u32(p);
      p += 4;
      if ((size_t)(end - p) < n) fail_status(1, "plan: %s: truncated argument %u", op_name(op->code), i);
      op->args[i].p = malloc((size_t)n + 1);
      if (!op->args[i].p) fail("plan: allocate");
      memcpy(op->args[i].p, p, n);
      op->args[i].p[n] = 0;
      op->args[i].len = n;
      p += n;
    }
  }
}

static const struct arg *arg_at(const struct op *op, unsigned i) {
  if (i >= op->argc) fail_status(1, "plan: %s: missing argument %u", op_name(op->code), i);
  return &op->args[i];
}

const char *op_str(const struct op *op, unsigned i) {
  const struct arg *a = arg_at(op, i);
  /* Strings carry no NUL on the wire; an embedded one would silently cut a path short. */
  if (strlen(a->p) != a->len) fail_status(1, "plan: %s: argument %u contains a NUL byte", op_name(op->code), i);
  return a->p;
}

const struct arg *op_bytes(const struct op *op, unsigned i) { return arg_at(op, i); }

int64_t op_int(const struct op *op, unsigned i) {
  const struct arg *a = arg_at(op, i);
  const unsigned char *p = (const unsigned char *)a->p;
  if (a->len != 8) fail_status(1, "plan: %s: argument %u is not an 8-byte integer", op_name(op->code), i);
  return (int64_t)((uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32);
}

char **op_strv(const struct op *op, unsigned *i) {
  int64_t n = op_int(op, (*i)++);
  if (n < 0 || n > 65535) fail_status(1, "plan: %s: bad list length %lld", op_name(op->code), (long long)n);
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (!v) fail("plan: allocate");
  for (int64_t k = 0; k < n; k++) v[k] = (char *)op_str(op, (*i)++);
  return v;
}
