// The executor runs from a sealed in-memory copy, never from its file (CVE-2019-5736). The executor is the
// container's init until the execve and the process `tsrun exec` clones into a running container, so a container
// process can reach its /proc/<pid>/exe (or run it again through "#!/proc/self/exe"); were that the file in
// native/build, a container could open it and, once no executor runs, write it: the next container on the host
// would run the attacker's code as root outside. A memfd sealed against writes and resizes gives such a process
// nothing to write. The copy is made once per tsrun process (a ~700 KB static binary: 0.7 ms with sendfile)
// and kept, close-on-exec, for the commands of this process; being sealed, sharing it is safe.
import { closeSync, fstatSync, openSync } from "node:fs";
import koffi from "koffi";
import { SyscallError } from "./syscall-error.js";

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
const F_SEAL_SEAL = 0x1;
const F_SEAL_SHRINK = 0x2;
const F_SEAL_GROW = 0x4;
const F_SEAL_WRITE = 0x8;
/** Every seal: no more seals can be removed or added, and the content can never change. */
export const EXECUTOR_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

let c:
  | {
      memfdCreate: (name: string, flags: number) => number;
      fcntl: (fd: number, cmd: number, ...rest: unknown[]) => number;
      close: (fd: number) => number;
      sendfile: (out: number, inp: number, off: null, n: number) => number | bigint;
    }
  | undefined;

function libc(): NonNullable<typeof c> {
  if (!c) {
    const lib = koffi.load("libc.so.6");
    c = {
      memfdCreate: lib.func("int memfd_create(const char *name, unsigned int flags)"),
      fcntl: lib.func("int fcntl(int fd, int cmd, ...)"),
      close: lib.func("int close(int fd)"),
      sendfile: lib.func("long sendfile(int out, int in, void *off, unsigned long n)"),
    };
  }
  return c;
}

/** A sealed memfd holding a copy of the file at `path`; its fd is close-on-exec. */
export function sealedCopy(path: string, name: string): number {
  const l = libc();
  const fd = l.memfdCreate(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw new SyscallError("memfd_create", koffi.errno(), name);
  try {
    const src = openSync(path, "r");
    try {
      // In the kernel, file to shmem: no 700 KB buffer through JavaScript (0.7 ms against 5 ms cold).
      const size = fstatSync(src).size;
      let put = 0;
      while (put < size) {
        const n = Number(l.sendfile(fd, src, null, size - put));
        if (n < 0) throw new SyscallError("sendfile", koffi.errno(), path);
        if (n === 0) break;
        put += n;
      }
    } finally {
      closeSync(src);
    }
    if (l.fcntl(fd, F_ADD_SEALS, "int", EXECUTOR_SEALS) < 0)
      throw new SyscallError("fcntl F_ADD_SEALS", koffi.errno(), name);
    return fd;
  } catch (e) {
    l.close(fd);
    throw e;
  }
}

/** The seals on fd (F_GET_SEALS), for tests. */
export function sealsOf(fd: number): number {
  return libc().fcntl(fd, F_GET_SEALS);
}

const copies = new Map<string, number>();

/** The sealed copy of the executor at `path`, made once per process: a close-on-exec memfd to spawn from. */
export function sealedExecutorFd(path: string): number {
  let fd = copies.get(path);
  if (fd === undefined) {
    fd = sealedCopy(path, "tsrun-exec");
    copies.set(path, fd);
  }
  return fd;
}

/**
 * What to spawn for the executor at `path`: /proc/self/fd/N of its sealed copy. The child resolves that in its
 * own fd table, where the memfd is still open (it is close-on-exec: the kernel opens the file before it closes
 * those fds, which works for a binary, not for a script).
 */
export function sealedExecutorPath(path: string): string {
  return `/proc/self/fd/${sealedExecutorFd(path)}`;
}
