import { constants } from "node:os";

// Reverse map of Linux errno numbers to their names, built once from Node's own table.
const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!names.has(value)) names.set(value, name);
}

/** The symbolic name of a positive errno value, such as `EBADF`, or `errno N` when unknown. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}

export interface ConsoleErrorOptions {
  /** The file the operation was applied to, such as `/dev/pts/3`. */
  path?: string;
  /** The positive Linux errno value. */
  errno?: number;
  /** The errno name (`EBADF`); derived from `errno` when omitted. */
  code?: string;
  /** Replaces the generated message. */
  message?: string;
  cause?: unknown;
}

/**
 * A failed terminal operation. The message reads `op path: CODE`, for example
 * `tcsetattr /dev/pts/3: EBADF`.
 */
export class ConsoleError extends Error {
  /** The operation that failed: a syscall (`tcsetattr`, `ioctl TIOCSWINSZ`) or a step (`relay`). */
  readonly op: string;
  readonly path?: string;
  /** The positive Linux errno value, when the failure came from the kernel. */
  readonly errno?: number;
  /** The errno name, such as `EBADF`. */
  readonly code?: string;

  constructor(op: string, opts: ConsoleErrorOptions = {}) {
    const code = opts.code ?? (opts.errno === undefined ? undefined : errnoName(opts.errno));
    const where = opts.path === undefined ? op : `${op} ${opts.path}`;
    super(
      opts.message ?? `${where}: ${code ?? "failed"}`,
      opts.cause === undefined ? {} : { cause: opts.cause },
    );
    this.name = new.target.name;
    this.op = op;
    if (opts.path !== undefined) this.path = opts.path;
    if (opts.errno !== undefined) this.errno = opts.errno;
    if (code !== undefined) this.code = code;
  }
}

/** The file descriptor is not a terminal (or there is no terminal to be found). */
export class NotAConsoleError extends ConsoleError {}
