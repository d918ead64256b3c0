// The glibc entry points fdpass needs, bound once through koffi, and the Linux x86_64/arm64
// constants that go with them. Nothing here has policy: callers check results and errno.
import koffi, { type KoffiFunc } from "koffi";

// The structure layouts built by hand elsewhere (msghdr, cmsghdr, pollfd) assume LP64
// little-endian, and some open(2) flags differ between architectures: refuse the rest loudly
// rather than corrupt memory quietly.
if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) {
  throw new Error(
    `@tsrun/fdpass: unsupported platform ${process.platform}/${process.arch} (linux x64 or arm64 only)`,
  );
}

const libc = koffi.load("libc.so.6");

// Buffers passed as `void *` reach C as a pointer to their own bytes, with no copy, for the
// duration of a synchronous call. That is what lets us lay out msghdr/sockaddr by hand.
export const sys = {
  socket: libc.func("int socket(int domain, int type, int protocol)") as KoffiFunc<
    (domain: number, type: number, protocol: number) => number
  >,
  socketpair: libc.func("int socketpair(int domain, int type, int protocol, _Out_ int *sv)") as KoffiFunc<
    (domain: number, type: number, protocol: number, sv: Int32Array) => number
  >,
  sendmsg: libc.func("intptr_t sendmsg(int fd, void *msg, int flags)") as KoffiFunc<
    (fd: number, msg: Buffer, flags: number) => number
  >,
  recvmsg: libc.func("intptr_t recvmsg(int fd, void *msg, int flags)") as KoffiFunc<
    (fd: number, msg: Buffer, flags: number) => number
  >,
  bind: libc.func("int bind(int fd, void *addr, uint32_t len)") as KoffiFunc<
    (fd: number, addr: Buffer, len: number) => number
  >,
  connect: libc.func("int connect(int fd, void *addr, uint32_t len)") as KoffiFunc<
    (fd: number, addr: Buffer, len: number) => number
  >,
  listen: libc.func("int listen(int fd, int backlog)") as KoffiFunc<(fd: number, backlog: number) => number>,
  accept4: libc.func("int accept4(int fd, void *addr, void *len, int flags)") as KoffiFunc<
    (fd: number, addr: null, len: null, flags: number) => number
  >,
  close: libc.func("int close(int fd)") as KoffiFunc<(fd: number) => number>,
  // open and fcntl are variadic in C; koffi wants a type before each extra argument.
  open: libc.func("int open(const char *path, int flags, ...)") as KoffiFunc<
    (path: string, flags: number) => number
  >,
  fcntl: libc.func("int fcntl(int fd, int cmd, ...)") as KoffiFunc<
    (fd: number, cmd: number, ...typedArgs: unknown[]) => number
  >,
  poll: libc.func("int poll(void *fds, unsigned long nfds, int timeout)") as KoffiFunc<
    (fds: Buffer, nfds: number, timeout: number) => number
  >,
  eventfd: libc.func("int eventfd(unsigned int initval, int flags)") as KoffiFunc<
    (initval: number, flags: number) => number
  >,
  read: libc.func("intptr_t read(int fd, void *buf, size_t count)") as KoffiFunc<
    (fd: number, buf: Buffer, count: number) => number
  >,
  write: libc.func("intptr_t write(int fd, void *buf, size_t count)") as KoffiFunc<
    (fd: number, buf: Buffer, count: number) => number
  >,
};

/** errno of the last synchronous call on this thread; read it before any other FFI call. */
export function lastErrno(): number {
  return koffi.errno();
}

/** The address of a Buffer's bytes, to store inside structures such as msghdr. */
export function addressOf(buf: Buffer): bigint {
  return koffi.address(buf);
}

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 1;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CTRUNC = 0x8;
export const MSG_CMSG_CLOEXEC = 0x40000000;
// arm64 keeps the historical ARM values for O_DIRECTORY.
export const O_DIRECTORY = process.arch === "arm64" ? 0o40000 : 0o200000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
export const POLLIN = 0x1;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
/** The kernel's per-message fd limit (SCM_MAX_FD). */
export const SCM_MAX_FD = 253;
