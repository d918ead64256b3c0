/* A session keyring of the container's own, as runc gives it: without one, the container's processes would share
 * (and could read and add to) the session keyring of whoever ran tsrun. */
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "executor.h"

#define KEYCTL_SETPERM 5
#define KEYCTL_DESCRIBE 6
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEY_USR_SEARCH 0x00080000u

void op_session_keyring(const struct op *op) {
  const char *name = op_str(op, 0);
  long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
  if (id < 0) {
    if (errno == ENOSYS) return;
    fail("join session keyring %s", name);
  }
  if (!op_int(op, 1)) return;
  /* The description is "type;uid;gid;perm;name", perm in hex. */
  char desc[512];
  long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc, 0);
  if (n < 0) fail("describe session keyring %s", name);
  desc[sizeof desc - 1] = 0;
  char *p = desc;
  for (int field = 0; field < 3 && p; field++) {
    while (*p && *p != ';') p++;
    p = *p ? p + 1 : NULL;
  }
  if (!p) fail_status(1, "describe session keyring %s: unexpected description", name);
  unsigned long perm = strtoul(p, NULL, 16);
  if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm | KEY_USR_SEARCH, 0, 0) < 0)
    fail("set permissions of session keyring %s", name);
}
