/* Namespace ops: joining an existing namespace (stage 0), creating one in the init, bringing up loopback. */
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "executor.h"

void op_setns(const struct op *op) {
  const char *path = op_str(op, 0);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("setns: open %s", path);
  if (setns(fd, (int)op_int(op, 1)) < 0) fail("setns %s", path);
  close(fd);
}

void op_unshare(const struct op *op) {
  int64_t flags = op_int(op, 0);
  if (unshare((int)flags) < 0) fail("unshare %#llx", (unsigned long long)flags);
}

/* A fresh network namespace has "lo" down; runc brings it up so 127.0.0.1 works. ioctl on any inet socket does. */
void op_loopback_up(void) {
  struct ifreq ifr;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("loopback up: socket");
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("loopback up: get flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("loopback up: set flags of lo");
  close(s);
}
