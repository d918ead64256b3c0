// sendmsg/recvmsg with SCM_RIGHTS.
//
// Each call lays out one Buffer as [msghdr | iovec | control | payload] and points the
// msghdr fields at its own bytes (x86_64/arm64 layout):
//   struct msghdr { void *name; socklen_t namelen; /* pad */ struct iovec *iov; size_t iovlen;
//                   void *control; size_t controllen; int flags; /* pad */ }   = 56 bytes
//   struct iovec  { void *base; size_t len; }                                  = 16 bytes
import { constants } from "node:os";
import { parseRights, rightsSpace, writeRights } from "./cmsg.js";
import { FdPassError, invalidArgument, syscallError } from "./errors.js";
import { closeQuietly } from "./fd.js";
import {
  addressOf,
  lastErrno,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  SCM_MAX_FD,
  sys,
} from "./libc.js";
import { waitReadable } from "./wait-readable.js";

const { EAGAIN, EINTR } = constants.errno;

const MSGHDR_SIZE = 56;
const IOVEC_SIZE = 16;
const OFF_IOV = 16;
const OFF_IOVLEN = 24;
const OFF_CONTROL = 32;
const OFF_CONTROLLEN = 40;
const OFF_FLAGS = 48;
const HEADERS = MSGHDR_SIZE + IOVEC_SIZE;

/** Options for receiving. */
export interface RecvOptions {
  /** Most fds accepted in one message (default 16, at most 253). Extra fds are closed. */
  maxFds?: number;
  /** Largest payload accepted, in bytes (default 4096). */
  maxPayload?: number;
  /** Cancels the wait (async calls only); the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** One received message: the payload and the fds that came with it (close-on-exec, now ours). */
export interface Received {
  fds: number[];
  payload: Buffer;
}

export const DEFAULT_MAX_FDS = 16;
export const DEFAULT_MAX_PAYLOAD = 4096;

function checkFd(fd: number, what: string): void {
  if (!Number.isInteger(fd) || fd < 0) throw invalidArgument(`${what}: invalid fd ${String(fd)}`);
}

function frame(controlLen: number, payloadLen: number): { buf: Buffer; control: Buffer; payload: Buffer } {
  const buf = Buffer.alloc(HEADERS + controlLen + payloadLen);
  const base = addressOf(buf);
  buf.writeBigUInt64LE(base + BigInt(MSGHDR_SIZE), OFF_IOV);
  buf.writeBigUInt64LE(1n, OFF_IOVLEN);
  if (controlLen > 0) buf.writeBigUInt64LE(base + BigInt(HEADERS), OFF_CONTROL);
  buf.writeBigUInt64LE(BigInt(controlLen), OFF_CONTROLLEN);
  buf.writeBigUInt64LE(base + BigInt(HEADERS + controlLen), MSGHDR_SIZE);
  buf.writeBigUInt64LE(BigInt(payloadLen), MSGHDR_SIZE + 8);
  return {
    buf,
    control: buf.subarray(HEADERS, HEADERS + controlLen),
    payload: buf.subarray(HEADERS + controlLen),
  };
}

/**
 * Sends `payload` with `fds` attached, as one sendmsg. The fds stay open here: the peer gets
 * its own copies. The payload must not be empty, because a zero-byte message cannot be told
 * apart from end-of-stream on the receiving side.
 */
export function sendFds(sock: number, fds: readonly number[], payload: Buffer | string): void {
  checkFd(sock, "sendmsg");
  for (const fd of fds) checkFd(fd, "sendmsg");
  if (fds.length > SCM_MAX_FD)
    throw invalidArgument(`sendmsg: ${fds.length} fds exceed the limit of ${SCM_MAX_FD}`);
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  if (!Buffer.isBuffer(data) || data.length === 0)
    throw invalidArgument("sendmsg: payload must not be empty");

  let controlLen = fds.length > 0 ? rightsSpace(fds.length) : 0;
  let sent = 0;
  while (sent < data.length) {
    const f = frame(controlLen, data.length - sent);
    if (controlLen > 0) writeRights(f.control, fds);
    data.copy(f.payload, 0, sent);
    // MSG_NOSIGNAL: a closed peer must be an EPIPE error here, not a SIGPIPE for the process.
    const n = sys.sendmsg(sock, f.buf, MSG_NOSIGNAL);
    if (n < 0) {
      const errno = lastErrno();
      if (errno === EINTR) continue;
      throw syscallError("sendmsg", errno);
    }
    // A stream socket may take part of the payload; the fds went with that part, so the
    // remainder follows without them.
    sent += n;
    controlLen = 0;
  }
}

function resolveLimits(opts: RecvOptions | undefined): { maxFds: number; maxPayload: number } {
  const maxFds = opts?.maxFds ?? DEFAULT_MAX_FDS;
  const maxPayload = opts?.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (!Number.isInteger(maxFds) || maxFds < 0 || maxFds > SCM_MAX_FD) {
    throw invalidArgument(`recvmsg: maxFds must be an integer from 0 to ${SCM_MAX_FD}`);
  }
  if (!Number.isInteger(maxPayload) || maxPayload < 1) {
    throw invalidArgument("recvmsg: maxPayload must be a positive integer");
  }
  return { maxFds, maxPayload };
}

/** One recvmsg. Returns null when `nonBlocking` and nothing is queued. */
function receiveOnce(
  sock: number,
  maxFds: number,
  maxPayload: number,
  nonBlocking: boolean,
): Received | null {
  // Room for one fd more than allowed, so that "one too many" is reported as ETOOMANYFDS;
  // beyond that the kernel sets MSG_CTRUNC and drops the rest.
  const f = frame(rightsSpace(maxFds + 1), maxPayload);
  // MSG_CMSG_CLOEXEC: received fds must never leak into a child spawned meanwhile.
  const flags = MSG_CMSG_CLOEXEC | (nonBlocking ? MSG_DONTWAIT : 0);
  let n: number;
  for (;;) {
    n = sys.recvmsg(sock, f.buf, flags);
    if (n >= 0) break;
    const errno = lastErrno();
    if (errno === EINTR) continue;
    if (errno === EAGAIN && nonBlocking) return null;
    throw syscallError("recvmsg", errno);
  }
  const msgFlags = f.buf.readInt32LE(OFF_FLAGS);
  const controlLen = Number(f.buf.readBigUInt64LE(OFF_CONTROLLEN));
  // Whatever happens next, these fds are already in our table: they are returned or closed.
  const { fds, malformed } = parseRights(f.control, controlLen);
  let error: FdPassError | undefined;
  if (msgFlags & MSG_CTRUNC) {
    error = new FdPassError(`recvmsg: control data truncated (MSG_CTRUNC), more than ${maxFds} fds sent`, {
      code: "ECTRUNC",
      syscall: "recvmsg",
    });
  } else if (msgFlags & MSG_TRUNC) {
    error = new FdPassError(`recvmsg: payload truncated (MSG_TRUNC), larger than ${maxPayload} bytes`, {
      code: "ETRUNC",
      syscall: "recvmsg",
    });
  } else if (malformed) {
    error = new FdPassError("recvmsg: malformed control message", { code: "EBADMSG", syscall: "recvmsg" });
  } else if (n === 0 && fds.length === 0) {
    error = new FdPassError("recvmsg: peer closed the connection", {
      code: "EPEERCLOSED",
      syscall: "recvmsg",
    });
  } else if (fds.length > maxFds) {
    error = new FdPassError(`recvmsg: received ${fds.length} fds, expected at most ${maxFds}`, {
      code: "ETOOMANYFDS",
      syscall: "recvmsg",
    });
  }
  if (error) {
    closeQuietly(fds);
    throw error;
  }
  return { fds, payload: Buffer.from(f.payload.subarray(0, n)) };
}

/**
 * Receives one message, blocking the calling thread until it arrives (or failing with EAGAIN
 * on a non-blocking socket). Use it where blocking is fine: a CLI, a test, a worker thread.
 */
export function recvFdsSync(sock: number, opts?: Omit<RecvOptions, "signal">): Received {
  checkFd(sock, "recvmsg");
  const { maxFds, maxPayload } = resolveLimits(opts);
  return receiveOnce(sock, maxFds, maxPayload, false)!;
}

/**
 * Receives one message without blocking the event loop. The socket's own blocking mode is
 * left alone: reads use MSG_DONTWAIT and waiting happens in poll(2) off the main thread.
 */
export async function recvFds(sock: number, opts?: RecvOptions): Promise<Received> {
  checkFd(sock, "recvmsg");
  const { maxFds, maxPayload } = resolveLimits(opts);
  const signal = opts?.signal;
  for (;;) {
    signal?.throwIfAborted();
    const got = receiveOnce(sock, maxFds, maxPayload, true);
    if (got) return got;
    // Another reader may take the message first; then we simply wait again.
    await waitReadable(sock, signal);
  }
}
