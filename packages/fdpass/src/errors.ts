import { constants } from "node:os";

/**
 * Codes that fdpass itself assigns. Failed system calls use the errno name instead
 * (`ECONNREFUSED`, `ENOENT`, ...), so `code` is open-ended.
 */
export type FdPassErrorCode =
  /** The payload did not fit in the receive buffer (MSG_TRUNC); the rest of the datagram is lost. */
  | "ETRUNC"
  /** The control buffer overflowed (MSG_CTRUNC); the kernel dropped some of the passed fds. */
  | "ECTRUNC"
  /** A message arrived without the fd that was expected. */
  | "ENOFD"
  /** A message carried more fds than the caller accepts. */
  | "ETOOMANYFDS"
  /** The peer closed the connection before sending a message. */
  | "EPEERCLOSED"
  /** A malformed message or argument. */
  | "EBADMSG"
  /** The object was closed while an operation was waiting on it. */
  | "ECLOSED"
  /** An invalid argument: an empty payload, a bad fd number, an over-long name. */
  | "EINVAL";

export interface FdPassErrorOptions {
  code: FdPassErrorCode | string;
  syscall?: string;
  errno?: number;
  path?: string;
  cause?: unknown;
}

/** Every error raised by this package. `code` is stable; the message is for humans. */
export class FdPassError extends Error {
  readonly code: FdPassErrorCode | string;
  readonly syscall?: string;
  readonly errno?: number;
  readonly path?: string;

  constructor(message: string, opts: FdPassErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "FdPassError";
    this.code = opts.code;
    if (opts.syscall !== undefined) this.syscall = opts.syscall;
    if (opts.errno !== undefined) this.errno = opts.errno;
    if (opts.path !== undefined) this.path = opts.path;
  }
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // Aliases (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK) must not shadow the usual name.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno value, `E<n>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** An error for a failed system call: `connect /run/x.sock: ECONNREFUSED`. */
export function syscallError(syscall: string, errno: number, path?: string): FdPassError {
  const code = errnoName(errno);
  const what = path === undefined ? syscall : `${syscall} ${path}`;
  return new FdPassError(`${what}: ${code}`, {
    code,
    syscall,
    errno,
    ...(path === undefined ? {} : { path }),
  });
}

/** An error for an argument the caller should not have passed. */
export function invalidArgument(message: string): FdPassError {
  return new FdPassError(message, { code: "EINVAL" });
}
