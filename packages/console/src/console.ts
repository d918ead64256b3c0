import { readlinkSync } from "node:fs";
import { ConsoleError, NotAConsoleError } from "./errors.js";
import { O_CLOEXEC, O_NOCTTY, O_RDWR, sysClose, sysOpen } from "./libc.js";
import { copyTermios, ECHO, getTermios, makeRaw, ONLCR, setTermios, type Termios } from "./termios.js";
import { getWinSize, setWinSize, type WinSize } from "./winsize.js";

export interface ConsoleOptions {
  /** Used in error messages; defaults to the fd's target in /proc/self/fd (`/dev/pts/3`). */
  name?: string;
  /** When true, close() closes the fd. Defaults to false. */
  owned?: boolean;
}

function fdName(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return `fd ${fd}`;
  }
}

/**
 * One terminal fd: a pty master, a pty slave or the user's terminal. The first call that changes the
 * termios saves the settings it found, and reset() puts exactly those back.
 */
export class Console {
  readonly fd: number;
  readonly name: string;
  readonly owned: boolean;
  #saved: Termios | undefined;
  #closed = false;

  /** Wraps `fd`; throws NotAConsoleError when it is not a terminal. Prefer consoleFromFd(). */
  constructor(fd: number, opts: ConsoleOptions = {}) {
    if (!Number.isInteger(fd) || fd < 0) throw new TypeError(`console: invalid fd ${fd}`);
    this.fd = fd;
    this.name = opts.name ?? fdName(fd);
    this.owned = opts.owned ?? false;
    try {
      getTermios(fd, this.name);
    } catch (err) {
      const e = err as ConsoleError;
      throw new NotAConsoleError(e.op, {
        path: this.name,
        ...(e.errno === undefined ? {} : { errno: e.errno }),
      });
    }
  }

  /** True once close() was called; every other method then throws EBADF. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The termios saved before the first change, or undefined if nothing was changed yet. */
  get savedTermios(): Termios | undefined {
    return this.#saved && copyTermios(this.#saved);
  }

  size(): WinSize {
    return getWinSize(this.#open("ioctl TIOCGWINSZ"), this.name);
  }

  resize(ws: WinSize): void {
    setWinSize(this.#open("ioctl TIOCSWINSZ"), ws, this.name);
  }

  resizeFrom(other: Console): void {
    this.resize(other.size());
  }

  /** Raw input (cfmakeraw) while keeping output processing, as a host terminal under a relay needs. */
  setRaw(): void {
    this.#change((t) => makeRaw(t));
  }

  disableEcho(): void {
    this.#change((t) => ({ ...t, lflag: t.lflag & ~ECHO }));
  }

  /** Stops the line discipline turning `\n` into `\r\n`: the relay's far end already does that. */
  clearONLCR(): void {
    this.#change((t) => ({ ...t, oflag: t.oflag & ~ONLCR }));
  }

  /** Restores the termios saved before the first change; does nothing if nothing was changed. */
  reset(): void {
    if (this.#saved) setTermios(this.#open("tcsetattr"), this.#saved, this.name);
  }

  /** Closes the fd if this Console owns it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.owned) sysClose(this.fd, this.name);
  }

  #open(op: string): number {
    // After close() the number may already belong to another file; refuse rather than touch it.
    if (this.#closed) throw new ConsoleError(op, { path: this.name, code: "EBADF" });
    return this.fd;
  }

  #change(edit: (t: Termios) => Termios): void {
    const fd = this.#open("tcgetattr");
    const current = getTermios(fd, this.name);
    const next = edit(copyTermios(current));
    setTermios(fd, next, this.name);
    // Saved only once the change took effect, so a failed first change leaves nothing to undo.
    this.#saved ??= current;
  }
}

/** Wraps a terminal fd. Not owned by default: close() then leaves the fd open. */
export function consoleFromFd(fd: number, opts: ConsoleOptions = {}): Console {
  return new Console(fd, opts);
}

/**
 * The user's terminal: the first of stdin, stdout and stderr that is a terminal, else /dev/tty
 * (opened, and owned by the returned Console).
 */
export function current(): Console {
  for (const fd of [0, 1, 2]) {
    try {
      return new Console(fd);
    } catch (err) {
      if (!(err instanceof NotAConsoleError)) throw err;
    }
  }
  let fd: number;
  try {
    fd = sysOpen("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  } catch (err) {
    const e = err as ConsoleError;
    throw new NotAConsoleError("current", {
      path: "/dev/tty",
      ...(e.errno === undefined ? {} : { errno: e.errno }),
      message: `current: no terminal on stdin, stdout, stderr or /dev/tty (${e.code ?? "failed"})`,
    });
  }
  try {
    return new Console(fd, { name: "/dev/tty", owned: true });
  } catch (err) {
    sysClose(fd, "/dev/tty");
    throw err;
  }
}
