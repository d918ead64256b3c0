/*
 * tsrun-exec: stage 0 and the clone.
 *
 * tsrun spawns this process with the init channel on an fd named by _TSRUN_INITPIPE and sends one FRAME_PLAN.
 * Stage 0 runs the ops before OP_CLONE in its own process (setns, oom_score_adj), clones the init with
 * CLONE_PARENT (so the init is tsrun's child, not ours), tells tsrun the pid, writes the id maps of the child from
 * outside (only a process in the parent user namespace can), then releases the child and exits 0. The child blocks
 * on the release pipe until then, so its maps are in place before it does anything that needs them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"
#include "protocol.h"

/* Stage 0's view of the child it cloned: /proc/<pid>/{setgroups,uid_map,gid_map}. */
static void write_child_file(pid_t child, const struct op *op, const char *file) {
  char path[64];
  const char *data = op_str(op, 0);
  snprintf(path, sizeof path, "/proc/%d/%s", (int)child, file);
  write_file(path, data, strlen(data), op_name(op->code));
}

/*
 * clone(2) without CLONE_VM and without a new stack behaves like fork(2): the child gets a copy-on-write image and
 * returns 0 here. glibc's fork() cannot take CLONE_NEW* or CLONE_PARENT flags, hence the raw syscall.
 */
static pid_t clone_init(int64_t flags) {
  /* The low byte of clone(2)'s flags is the exit signal; CLONE_NEWTIME (0x80) lives there and clone(2) cannot take
   * it (a time namespace needs unshare plus offsets before the fork, which the protocol has no op for yet). */
  if (flags & 0xff) {
    errno = EINVAL;
    fail("clone flags %#llx", (unsigned long long)flags);
  }
  unsigned long f = (unsigned long)flags | CLONE_PARENT | SIGCHLD;
  return (pid_t)syscall(SYS_clone, f, NULL, NULL, NULL, NULL);
}

/* Refuse plans whose stage layout makes no sense before running any of them. */
static void check_stages(const struct plan *plan) {
  size_t clone_at = plan->n, begin_at = plan->n;
  for (size_t i = 0; i < plan->n; i++) {
    uint16_t c = plan->ops[i].code;
    if (c == OP_CLONE && clone_at == plan->n) clone_at = i;
    else if (c == OP_CLONE) fail_status(1, "plan: more than one clone");
    if (c == OP_INIT_BEGIN && begin_at == plan->n) begin_at = i;
    else if (c == OP_INIT_BEGIN) fail_status(1, "plan: more than one init_begin");
  }
  if (clone_at < plan->n && begin_at < clone_at) fail_status(1, "plan: init_begin before clone");
  if (clone_at < plan->n && begin_at == plan->n) fail_status(1, "plan: clone without init_begin");
  for (size_t i = 0; i < plan->n; i++) {
    uint16_t c = plan->ops[i].code;
    int child_op = c == OP_SETGROUPS || c == OP_UIDMAP || c == OP_GIDMAP;
    int between = i > clone_at && i < begin_at;
    if (child_op && !between) fail_status(1, "plan: %s needs the cloned child (between clone and init_begin)", op_name(c));
    if (!child_op && between) fail_status(1, "plan: %s cannot run between clone and init_begin", op_name(c));
    int stage0_op = c == OP_SETNS || c == OP_OOM_SCORE_ADJ;
    if (clone_at == plan->n) continue; /* no clone: stage 0 runs everything */
    if (stage0_op && i > clone_at) fail_status(1, "plan: %s must come before clone", op_name(c));
    /* An init op before the clone would run in tsrun's namespaces: a mount there would land on the host. */
    if (!stage0_op && c != OP_CLONE && i < clone_at) fail_status(1, "plan: %s cannot run before clone", op_name(c));
  }
}

static void read_plan(struct plan *plan) {
  struct frame f;
  if (frame_recv(&f) < 0) {
    if (errno == 0) _exit(1); /* tsrun went away before sending anything: nothing to report to */
    fail("read plan");
  }
  if (f.type != FRAME_PLAN) fail_status(1, "read plan: unexpected frame type %u", f.type);
  plan_decode(f.payload, f.len, plan);
  free(f.payload);
}

int main(void) {
  struct plan plan;
  int dumpable_off = 0;

  g_chan = env_fd("_TSRUN_INITPIPE");
  if (g_chan < 0) {
    dprintf(2, "tsrun-exec: _TSRUN_INITPIPE is not set; this program is started by tsrun\n");
    return 1;
  }
  const char *level = getenv("_TSRUN_LOGLEVEL");
  g_debug = level && !strcmp(level, "debug");
  /* A hook closing its stdin early must not kill us with SIGPIPE; exec and hooks reset this to SIG_DFL. */
  signal(SIGPIPE, SIG_IGN);
  /* Everything from 3 up, our own channels included, must vanish at execve: the init channel reaching EOF is how
   * tsrun learns that the container process started. The exception is the fds the user asked to pass on
   * (--preserve-fds N: fds 3 .. 3+N-1, placed there by tsrun). */
  int preserve = env_fd("_TSRUN_PRESERVE_FDS");
  cloexec_from(3 + (preserve > 0 ? preserve : 0));
  /* The socket end libuv hands us should be blocking already; make sure, since every read here assumes it. */
  int fl = fcntl(g_chan, F_GETFL);
  if (fl < 0) fail("init pipe fd %d", g_chan);
  if (fl & O_NONBLOCK) fcntl(g_chan, F_SETFL, fl & ~O_NONBLOCK);

  /* As runc's "runc:[0:PARENT]": ps shows which stage a stuck process is in (comm is 15 characters at most). */
  prctl(PR_SET_NAME, "tsrun:[0:STAGE]", 0, 0, 0);
  read_plan(&plan);
  check_stages(&plan);

  pid_t child = 0;
  int release[2] = {-1, -1};
  for (size_t i = 0; i < plan.n; i++) {
    const struct op *op = &plan.ops[i];
    logf_("op %s (%zu)", op_name(op->code), i);
    switch (op->code) {
    case OP_SETNS:
      /* As runc: while joining namespaces we are not dumpable, so a process already inside cannot ptrace us or
       * open our /proc/<pid> files and reach host resources through them. */
      if (!dumpable_off && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail("prctl PR_SET_DUMPABLE");
      dumpable_off = 1;
      op_setns(op);
      break;
    case OP_OOM_SCORE_ADJ: {
      const char *v = op_str(op, 0);
      write_file("/proc/self/oom_score_adj", v, strlen(v), "oom_score_adj");
      break;
    }
    case OP_CLONE:
      if (pipe2(release, O_CLOEXEC) < 0) fail("clone: pipe");
      child = clone_init(op_int(op, 0));
      if (child < 0) fail("clone");
      if (child == 0) {
        /* The init: wait for stage 0 to finish the maps and report our pid. EOF means stage 0 failed (and has
         * reported it), so leave quietly. */
        char b;
        close(release[1]);
        ssize_t n;
        do n = read(release[0], &b, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1) _exit(1);
        close(release[0]);
        prctl(PR_SET_NAME, "tsrun:[1:INIT]", 0, 0, 0);
        /* Skip stage 0's ops against us; continue after OP_INIT_BEGIN. */
        while (plan.ops[i].code != OP_INIT_BEGIN) i++;
        break;
      }
      close(release[0]);
      g_victim = child;
      /* The pid goes out first, so tsrun can reap (or kill) the init even if a map write below fails. */
      {
        uint32_t pid = (uint32_t)child;
        if (frame_send(FRAME_PID, &pid, sizeof pid) < 0) fail("send pid");
      }
      break;
    case OP_SETGROUPS:
      write_child_file(child, op, "setgroups");
      break;
    case OP_UIDMAP:
      write_child_file(child, op, "uid_map");
      break;
    case OP_GIDMAP:
      write_child_file(child, op, "gid_map");
      break;
    case OP_INIT_BEGIN:
      if (child == 0) break; /* no clone: stage 0 runs the init ops itself */
      if (write(release[1], "1", 1) != 1) fail("release init");
      _exit(0);
    default:
      run_op(op);
    }
  }
  /* Only a plan without OP_EXEC ends here (e.g. a test plan); there is nothing left to do. */
  return 0;
}
