import { closeSync, read as fsRead, readlinkSync } from "node:fs";
import type * as tty from "node:tty";
import {
  getFileFlags,
  O_CLOEXEC,
  O_NOCTTY,
  O_NONBLOCK,
  sysClose,
  sysDupCloexec,
  sysIoctl,
  sysOpen,
  TIOCGPTN,
} from "./libc.js";

/** node:tty on first use: it loads node:net (~2 ms), which commands without a terminal never need. */
const ttyModule = (): typeof tty => process.getBuiltinModule("node:tty");

const CHUNK = 64 * 1024;
const MAX_RETRY_MS = 50;

/** Where a relay's input comes from. */
export interface Source {
  start(onData: (chunk: Buffer) => void, onEnd: () => void): void;
  pause(): void;
  resume(): void;
  /** Stops reading and releases what the source opened; never closes the caller's fd or stream. */
  stop(): void;
  /** Resolves once the source's own handles are closed (a blocking read in flight is not waited for). */
  closed(): Promise<void>;
}

/** A Readable owned by the caller: listened to, paused for backpressure, never destroyed. */
class StreamSource implements Source {
  readonly #stream: NodeJS.ReadableStream;
  #wasFlowing: boolean;
  #listeners: { event: string; fn: (arg: Buffer | string | Error) => void }[] = [];

  constructor(stream: NodeJS.ReadableStream) {
    this.#stream = stream;
    this.#wasFlowing = (stream as { readableFlowing?: boolean | null }).readableFlowing === true;
  }

  start(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    const data = (chunk: Buffer | string | Error): void => {
      if (typeof chunk === "string") onData(Buffer.from(chunk));
      else if (Buffer.isBuffer(chunk)) onData(chunk);
    };
    const end = (): void => onEnd();
    this.#listeners = [
      { event: "data", fn: data },
      { event: "end", fn: end },
      { event: "close", fn: end },
      { event: "error", fn: end },
    ];
    for (const { event, fn } of this.#listeners) this.#stream.on(event, fn);
    this.#stream.resume();
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  stop(): void {
    for (const { event, fn } of this.#listeners) this.#stream.removeListener(event, fn);
    this.#listeners = [];
    // A flowing stdin keeps the process alive; leave it paused unless it was flowing before us.
    if (!this.#wasFlowing) this.#stream.pause();
    this.#wasFlowing = false;
  }

  closed(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A terminal fd read through a fresh open of the same terminal, as libuv does for process.stdin:
 * O_NONBLOCK then lands on our own file description, not on the one shared with the user's shell.
 */
class ReopenedTtySource implements Source {
  readonly #stream: tty.ReadStream;
  readonly #closed: Promise<void>;

  constructor(fd: number) {
    this.#stream = new (ttyModule().ReadStream)(fd);
    this.#closed = new Promise((resolve) => this.#stream.once("close", () => resolve()));
    // Errors end the input (see start); this keeps a late one from becoming an uncaught exception.
    this.#stream.on("error", () => {});
  }

  static open(fd: number): ReopenedTtySource | undefined {
    if (!ttyModule().isatty(fd)) return undefined;
    try {
      // A pty master cannot be reopened: opening /dev/ptmx would make a new pty.
      sysIoctl(fd, TIOCGPTN, "TIOCGPTN", Buffer.alloc(4));
      return undefined;
    } catch {}
    let path: string;
    let own: number;
    try {
      path = readlinkSync(`/proc/self/fd/${fd}`);
      own = sysOpen(path, O_NOCTTY | O_CLOEXEC);
    } catch {
      return undefined;
    }
    let source: ReopenedTtySource;
    try {
      source = new ReopenedTtySource(own);
    } catch {
      sysClose(own, path);
      return undefined;
    }
    // libuv reopens the terminal once more and dup2()s it over `own`, then reads from (and later closes)
    // its new fd only; `own` is left to us.
    const handleFd = (source.#stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (handleFd !== undefined && handleFd !== own) sysClose(own, path);
    return source;
  }

  start(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    this.#stream.on("data", onData);
    this.#stream.on("end", onEnd);
    this.#stream.on("error", onEnd);
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  stop(): void {
    this.#stream.removeAllListeners("data");
    this.#stream.destroy();
  }

  closed(): Promise<void> {
    return this.#closed;
  }
}

/**
 * Any other fd (a pipe, a file, a socket) read with blocking reads on the threadpool, so its flags are
 * never touched. It reads from a dup, so the caller may close its own fd at any time; a read still in
 * flight at stop() finishes in the background and then closes the dup.
 */
class BlockingFdSource implements Source {
  readonly #fd: number;
  #onData: ((chunk: Buffer) => void) | undefined;
  #onEnd: (() => void) | undefined;
  #busy = false;
  #paused = false;
  #stopped = false;
  #delay = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(fd: number) {
    this.#fd = sysDupCloexec(fd);
  }

  start(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    this.#onData = onData;
    this.#onEnd = onEnd;
    this.#next();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#next();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#busy) closeSync(this.#fd);
  }

  closed(): Promise<void> {
    return Promise.resolve();
  }

  #next(): void {
    if (this.#busy || this.#paused || this.#stopped || this.#timer) return;
    this.#busy = true;
    const buf = Buffer.allocUnsafe(CHUNK);
    fsRead(this.#fd, buf, 0, CHUNK, null, (err, n) => {
      this.#busy = false;
      if (this.#stopped) {
        closeSync(this.#fd);
        return;
      }
      if (err && (err.code === "EAGAIN" || err.code === "EINTR")) {
        this.#delay = Math.min(this.#delay === 0 ? 1 : this.#delay * 2, MAX_RETRY_MS);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#next();
        }, this.#delay);
        return;
      }
      if (err || n === 0) {
        this.#onEnd?.();
        return;
      }
      this.#delay = 0;
      this.#onData?.(buf.subarray(0, n));
      this.#next();
    });
  }
}

/** Picks the way to read `input` that leaves the caller's fds and their flags as they were. */
export function openSource(input: NodeJS.ReadableStream | number): Source {
  if (typeof input !== "number") return new StreamSource(input);
  const before = getFileFlags(input);
  const source = ReopenedTtySource.open(input) ?? new BlockingFdSource(input);
  // Belt and braces for the rule the whole relay rests on: the caller's O_NONBLOCK is never changed.
  if ((getFileFlags(input) & O_NONBLOCK) !== (before & O_NONBLOCK)) {
    source.stop();
    throw new Error(`relay: O_NONBLOCK changed on fd ${input}`);
  }
  return source;
}
