// The few libc calls the lifecycle needs that Node does not offer: fifos and O_PATH opens, pidfds, pipes that can
// be chowned, waitpid for a pid libuv did not spawn, and kill with errno.
import koffi from "koffi";
import { SyscallError } from "./syscall-error.js";

const libc = koffi.load("libc.so.6");

export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
const F_SETPIPE_SZ = 1031;
const SYS_pidfd_open = 434;

const c = {
  open: libc.func("int open(const char *path, int flags, int mode)"),
  close: libc.func("int close(int fd)"),
  mkfifo: libc.func("int mkfifo(const char *path, uint32_t mode)"),
  chown: libc.func("int chown(const char *path, uint32_t uid, uint32_t gid)"),
  fchown: libc.func("int fchown(int fd, uint32_t uid, uint32_t gid)"),
  pipe2: libc.func("int pipe2(_Out_ int *fds, int flags)"),
  kill: libc.func("int kill(int pid, int sig)"),
  fcntl: libc.func("int fcntl(int fd, int cmd, ...)"),
  syscall: libc.func("long syscall(long nr, ...)"),
  poll: libc.func("int poll(_Inout_ void *fds, unsigned long nfds, int timeout)"),
  waitpid: libc.func("int waitpid(int pid, _Out_ int *status, int options)"),
  read: libc.func("long read(int fd, _Out_ void *buf, unsigned long n)"),
  _exit: libc.func("void _exit(int status)"),
};

function check(ret: number | bigint, syscall: string, path?: string): number {
  const n = Number(ret);
  if (n < 0) throw new SyscallError(syscall, koffi.errno(), path);
  return n;
}

export function open(path: string, flags: number, mode = 0): number {
  return check(c.open(path, flags | O_CLOEXEC, mode), "open", path);
}

export function close(fd: number): void {
  c.close(fd);
}

export function mkfifo(path: string, mode: number): void {
  check(c.mkfifo(path, mode), "mkfifo", path);
}

export function chown(path: string, uid: number, gid: number): void {
  check(c.chown(path, uid, gid), "chown", path);
}

export function fchown(fd: number, uid: number, gid: number): void {
  check(c.fchown(fd, uid, gid), "fchown");
}

/** A pipe, both ends close-on-exec; returns [read, write]. */
export function pipe(): [number, number] {
  const fds = [0, 0];
  check(c.pipe2(fds, O_CLOEXEC), "pipe2");
  return [fds[0]!, fds[1]!];
}

/** kill(2); returns false when the process is gone (ESRCH) instead of throwing. */
export function kill(pid: number, signal: number): boolean {
  if (c.kill(pid, signal) === 0) return true;
  const errno = koffi.errno();
  if (errno === koffi.os.errno.ESRCH) return false;
  throw new SyscallError("kill", errno);
}

export function setCloexec(fd: number, on: boolean): void {
  check(c.fcntl(fd, F_SETFD, "int", on ? FD_CLOEXEC : 0), "fcntl", `fd ${fd}`);
}

/** F_SETPIPE_SZ; best effort, since an unprivileged caller is capped by /proc/sys/fs/pipe-max-size. */
export function setPipeSize(fd: number, bytes: number): boolean {
  return Number(c.fcntl(fd, F_SETPIPE_SZ, "int", bytes)) >= 0;
}

export function pidfdOpen(pid: number): number {
  return check(c.syscall(SYS_pidfd_open, "int", pid, "int", 0), "pidfd_open", `pid ${pid}`);
}

/** poll(2) on fds for POLLIN; returns the indexes that are ready (POLLIN, POLLHUP or POLLERR). */
export function pollIn(fds: number[], timeoutMs: number): number[] {
  const buf = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, i) => {
    buf.writeInt32LE(fd, i * 8);
    buf.writeInt16LE(1 /* POLLIN */, i * 8 + 4);
  });
  const n = c.poll(buf, fds.length, timeoutMs);
  if (n < 0) {
    const errno = koffi.errno();
    if (errno === koffi.os.errno.EINTR) return [];
    throw new SyscallError("poll", errno);
  }
  const ready: number[] = [];
  for (let i = 0; i < fds.length; i++) if (buf.readInt16LE(i * 8 + 6) !== 0) ready.push(i);
  return ready;
}

/** The same poll on a worker thread, so the event loop keeps running while we wait. */
export function pollInAsync(fds: number[], timeoutMs: number): Promise<number[]> {
  const buf = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, i) => {
    buf.writeInt32LE(fd, i * 8);
    buf.writeInt16LE(1, i * 8 + 4);
  });
  return new Promise((resolve, reject) => {
    c.poll.async(buf, fds.length, timeoutMs, (err: unknown, n: number) => {
      if (err) return reject(err);
      if (n < 0) return resolve([]);
      const ready: number[] = [];
      for (let i = 0; i < fds.length; i++) if (buf.readInt16LE(i * 8 + 6) !== 0) ready.push(i);
      resolve(ready);
    });
  });
}

/** read(2) of up to n bytes; null on EAGAIN. */
export function read(fd: number, n: number): Buffer | null {
  const buf = Buffer.alloc(n);
  const got = Number(c.read(fd, buf, n));
  if (got < 0) {
    const errno = koffi.errno();
    if (errno === koffi.os.errno.EAGAIN) return null;
    throw new SyscallError("read", errno);
  }
  return buf.subarray(0, got);
}

/**
 * waitpid(pid) on a worker thread: reaps exactly this pid and no other child, so it never steals the status of a
 * process that libuv spawned. Resolves with the exit code as a shell reports it (128+n for a signal), like runc.
 */
export function waitExit(pid: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const status = [0];
    c.waitpid.async(pid, status, 0, (err: unknown, ret: number) => {
      if (err) return reject(err);
      if (ret < 0) return reject(new SyscallError("waitpid", koffi.os.errno.ECHILD ?? 10, `pid ${pid}`));
      resolve(exitCodeOf(status[0] ?? 0));
    });
  });
}

/** Blocking reap of one pid (retried on EINTR); the exit code as waitExit's, or undefined if it is not ours. */
export function waitExitSync(pid: number): number | undefined {
  const status = [0];
  for (;;) {
    if (c.waitpid(pid, status, 0) === pid) return exitCodeOf(status[0]!);
    if (koffi.errno() !== koffi.os.errno.EINTR) return undefined;
  }
}

/** Non-blocking reap of one pid; undefined while it still runs. */
export function tryReap(pid: number): number | undefined {
  const status = [0];
  const ret = c.waitpid(pid, status, 1 /* WNOHANG */);
  if (ret <= 0) return undefined;
  return exitCodeOf(status[0]!);
}

export function exitCodeOf(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}

/**
 * Ends the process now, skipping exit handlers: libuv joins its threadpool at exit, and a relay thread blocked
 * reading a stdin that never closes would hold tsrun forever. Only for when all output has been written.
 */
export function exitNow(code: number): never {
  c._exit(code);
  throw new Error("unreachable");
}
