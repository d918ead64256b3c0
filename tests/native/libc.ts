// The few libc calls the executor test needs and Node lacks: reaping a pid libuv did not spawn (the init is our
// child by CLONE_PARENT), a socketpair we choose the fds of, and recvmsg with SCM_RIGHTS for the pty master.
import { createRequire } from "node:module";

// koffi is a dependency of @tsrun/libcontainer, not of the workspace root; load it from there.
const require = createRequire(new URL("../../packages/libcontainer/package.json", import.meta.url));
const koffi = require("koffi");
const libc = koffi.load("libc.so.6");

const c = {
  waitpid: libc.func("int waitpid(int pid, _Out_ int *status, int options)"),
  socketpair: libc.func("int socketpair(int domain, int type, int protocol, _Out_ int *fds)"),
  recvmsg: libc.func("long recvmsg(int fd, void *msg, int flags)"),
  read: libc.func("long read(int fd, _Out_ void *buf, unsigned long n)"),
  open: libc.func("int open(const char *path, int flags, int mode)"),
  close: libc.func("int close(int fd)"),
};

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

function check(ret: number | bigint, what: string): number {
  const n = Number(ret);
  if (n < 0) throw new Error(`${what}: errno ${koffi.errno()}`);
  return n;
}

/** What waitpid reports: an exit code, or the signal that killed the process. */
export interface WaitStatus {
  code: number | null;
  signal: number | null;
}

function decode(status: number): WaitStatus {
  const sig = status & 0x7f;
  return sig === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: sig };
}

/** Blocking waitpid on a koffi worker thread, so the event loop keeps running. */
export function waitpid(pid: number): Promise<WaitStatus> {
  return new Promise((resolve, reject) => {
    const out = [0];
    c.waitpid.async(pid, out, 0, (err: Error | null, ret: number) => {
      if (err) reject(err);
      else if (ret !== pid) reject(new Error(`waitpid ${pid}: returned ${ret}`));
      else resolve(decode(out[0]!));
    });
  });
}

export function socketpair(): [number, number] {
  const fds = [0, 0];
  check(c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
  return [fds[0]!, fds[1]!];
}

export function open(path: string, flags: number): number {
  return check(c.open(path, flags, 0), `open ${path}`);
}

export function close(fd: number): void {
  c.close(fd);
}

/** One recvmsg: the payload and the fds that came as SCM_RIGHTS. Blocks; call when the message is known sent. */
export function recvFd(sock: number): { payload: string; fds: number[] } {
  const data = Buffer.alloc(256);
  const control = Buffer.alloc(64);
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(koffi.address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  // struct msghdr on x86_64/arm64: name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad).
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(koffi.address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(koffi.address(control), 32);
  msg.writeBigUInt64LE(BigInt(control.length), 40);
  const n = check(c.recvmsg(sock, msg, MSG_CMSG_CLOEXEC), "recvmsg");
  const fds: number[] = [];
  const controllen = Number(msg.readBigUInt64LE(40));
  // struct cmsghdr: u64 len, i32 level, i32 type, data (8-byte aligned).
  for (let off = 0; off + 16 <= controllen; ) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < 16) break;
    if (control.readInt32LE(off + 8) === SOL_SOCKET && control.readInt32LE(off + 12) === SCM_RIGHTS) {
      for (let k = off + 16; k + 4 <= off + len; k += 4) fds.push(control.readInt32LE(k));
    }
    off += (len + 7) & ~7;
  }
  return { payload: data.subarray(0, n).toString(), fds };
}

/** Reads a pty master until EIO (the slave side is gone) or EOF. */
export function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (;;) {
    const n = Number(c.read(fd, buf, buf.length));
    if (n <= 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString();
}
