/*
 * Identity and capabilities: the bounding set, uid/gid/groups, and the capability sets. The masks come from the
 * plan; the executor only applies them in the order the kernel needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"

static int last_cap(void) {
  char buf[16] = {0};
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CAP_LAST_CAP; /* no /proc yet: what we were compiled with */
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 ? atoi(buf) : CAP_LAST_CAP;
}

void op_cap_bounding(const struct op *op) {
  uint64_t keep = (uint64_t)op_int(op, 0);
  int last = last_cap();
  for (int cap = 0; cap <= last && cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) fail("drop capability %d from the bounding set", cap);
  }
}

/*
 * With /proc/self/setgroups "deny" (a user namespace mapped without setgroups) the kernel refuses setgroups(2)
 * whatever the list. runc then leaves the groups alone, and so do we when the plan asks for none.
 */
static int setgroups_denied(void) {
  char buf[8] = {0};
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n >= 4 && !strncmp(buf, "deny", 4);
}

static void set_groups(size_t n, const gid_t *gids) {
  if (n == 0 && setgroups_denied()) return;
  if (setgroups(n, gids) < 0) fail("setgroups");
}

/* In a fresh user namespace the init starts as the overflow uid; become root of the namespace (ids 0). */
void op_setid_root(void) {
  set_groups(0, NULL);
  if (setresgid(0, 0, 0) < 0) fail("setresgid 0");
  if (setresuid(0, 0, 0) < 0) fail("setresuid 0");
}

/*
 * Switching to a non-root uid clears the permitted set unless PR_SET_KEEPCAPS is on; OP_CAPS comes next and needs
 * those capabilities to be there to keep them. The kernel clears the effective set regardless; OP_CAPS sets it.
 */
void op_setuser(const struct op *op) {
  uid_t uid = (uid_t)op_int(op, 0);
  gid_t gid = (gid_t)op_int(op, 1);
  int64_t n = op_int(op, 2);
  if (n < 0 || n > 65536) fail_status(1, "plan: setuser: bad group count %lld", (long long)n);
  gid_t *gids = calloc((size_t)n + 1, sizeof *gids);
  if (!gids) fail("setuser: allocate");
  for (int64_t k = 0; k < n; k++) gids[k] = (gid_t)op_int(op, 3 + (unsigned)k);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("prctl PR_SET_KEEPCAPS");
  set_groups((size_t)n, gids);
  if (setresgid(gid, gid, gid) < 0) fail("setresgid %u", gid);
  if (setresuid(uid, uid, uid) < 0) fail("setresuid %u", uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail("prctl PR_SET_KEEPCAPS");
  free(gids);
}

void op_caps(const struct op *op) {
  uint64_t eff = (uint64_t)op_int(op, 0), perm = (uint64_t)op_int(op, 1), inh = (uint64_t)op_int(op, 2);
  uint64_t amb = (uint64_t)op_int(op, 3);
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  for (int w = 0; w < 2; w++) {
    data[w].effective = (uint32_t)(eff >> (32 * w));
    data[w].permitted = (uint32_t)(perm >> (32 * w));
    data[w].inheritable = (uint32_t)(inh >> (32 * w));
  }
  /* glibc has no capset wrapper; the raw syscall is the interface. */
  if (syscall(SYS_capset, &hdr, data) < 0) fail("capset");
  /* Ambient caps need to be in permitted and inheritable (set just above); start from an empty ambient set. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) fail("clear ambient capabilities");
  for (int cap = 0; cap < 64; cap++) {
    if (!(amb & (1ULL << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) fail("raise ambient capability %d", cap);
  }
}
