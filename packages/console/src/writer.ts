import { writev as fsWritev } from "node:fs";
import { ConsoleError } from "./errors.js";

// Output queued beyond HIGH_WATER pauses the producer; it resumes once the queue is below LOW_WATER.
export const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;
const MAX_RETRY_MS = 50;
// Linux IOV_MAX.
const MAX_IOV = 1024;

/** Where a relay's bytes go: an fd or a Writable. */
export interface Sink {
  /** Queues `chunk`; false asks the producer to pause until onDrain. */
  write(chunk: Buffer): boolean;
  /** Set once the peer went away (EPIPE, a destroyed stream); later writes are dropped. */
  readonly error: Error | undefined;
  onDrain: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
  /** Resolves once everything queued was written, or the sink failed or was disposed, with no write in flight. */
  idle(): Promise<void>;
  /** Drops whatever is still queued. */
  dispose(): void;
}

function toConsoleError(err: NodeJS.ErrnoException, path: string): ConsoleError {
  return new ConsoleError("write", {
    path,
    ...(err.errno === undefined ? {} : { errno: Math.abs(err.errno) }),
    ...(err.code === undefined ? {} : { code: err.code }),
    cause: err,
  });
}

/**
 * Writes to an fd through the threadpool (fs.write), one write in flight, in order. The fd's flags are
 * never changed: on a blocking fd a write just waits, and EAGAIN (someone else made it non-blocking, or
 * a non-blocking pty master is full) means "try again shortly", as node-pty does.
 */
export class FdWriter implements Sink {
  onDrain: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
  #queue: Buffer[] = [];
  #pending = 0;
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #delay = 0;
  #error: Error | undefined;
  #disposed = false;
  #wantDrain = false;
  #waiters: (() => void)[] = [];

  /**
   * @param waitOnEIO treat EIO like EAGAIN: a pty master reports it while no slave is open, and a
   * program may reopen its terminal.
   */
  constructor(
    readonly fd: number,
    readonly path: string,
    readonly waitOnEIO = false,
  ) {}

  get error(): Error | undefined {
    return this.#error;
  }

  get pending(): number {
    return this.#pending;
  }

  write(chunk: Buffer): boolean {
    if (this.#error || this.#disposed || chunk.length === 0) return true;
    this.#queue.push(chunk);
    this.#pending += chunk.length;
    this.#pump();
    if (this.#pending < HIGH_WATER) return true;
    this.#wantDrain = true;
    return false;
  }

  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  dispose(): void {
    this.#disposed = true;
    this.#queue = [];
    this.#pending = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settle();
  }

  #isIdle(): boolean {
    return !this.#busy && (this.#queue.length === 0 || this.#disposed || this.#error !== undefined);
  }

  #settle(): void {
    if (!this.#isIdle()) return;
    for (const w of this.#waiters.splice(0)) w();
  }

  #pump(): void {
    if (this.#busy || this.#timer || this.#disposed || this.#error) return;
    if (this.#queue.length === 0) {
      this.#settle();
      return;
    }
    // Everything queued goes in one writev: chunks from a pty master are often 1-4 KiB, and a threadpool round
    // trip per chunk, not the copy, is what limits the relay's throughput.
    const bufs = this.#queue.length <= MAX_IOV ? this.#queue.slice() : this.#queue.slice(0, MAX_IOV);
    this.#busy = true;
    fsWritev(this.fd, bufs, null, (err, n) => {
      this.#busy = false;
      if (this.#disposed) return this.#settle();
      if (err) {
        if (err.code === "EAGAIN" || err.code === "EINTR" || (err.code === "EIO" && this.waitOnEIO)) {
          this.#retryLater();
        } else {
          this.#fail(toConsoleError(err, this.path));
        }
        return;
      }
      this.#delay = 0;
      this.#pending -= n;
      for (let left = n; left > 0; ) {
        const head = this.#queue[0]!;
        if (left >= head.length) {
          left -= head.length;
          this.#queue.shift();
        } else {
          this.#queue[0] = head.subarray(left);
          left = 0;
        }
      }
      if (this.#wantDrain && this.#pending < LOW_WATER) {
        this.#wantDrain = false;
        this.onDrain?.();
      }
      this.#pump();
    });
  }

  // EAGAIN gives no readiness signal through fs.write, so back off from 1 ms up to MAX_RETRY_MS.
  #retryLater(): void {
    this.#delay = Math.min(this.#delay === 0 ? 1 : this.#delay * 2, MAX_RETRY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, this.#delay);
  }

  #fail(err: Error): void {
    this.#error = err;
    this.#queue = [];
    this.#pending = 0;
    this.#settle();
    this.onError?.(err);
  }
}

interface MaybeStreamState {
  destroyed?: boolean;
  writableEnded?: boolean;
}

/** Writes to a Writable, following its backpressure ('drain') and noticing when it goes away. */
export class StreamWriter implements Sink {
  onDrain: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
  #outstanding = 0;
  #wantDrain = false;
  #error: Error | undefined;
  #disposed = false;
  #waiters: (() => void)[] = [];
  readonly #stream: NodeJS.WritableStream;
  readonly #onDrainEvent = (): void => {
    if (!this.#wantDrain) return;
    this.#wantDrain = false;
    this.onDrain?.();
  };
  readonly #onErrorEvent = (err: Error): void => this.#fail(err);
  readonly #onGone = (): void =>
    this.#fail(new ConsoleError("write", { code: "EPIPE", message: "write: output closed" }));

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    stream.on("drain", this.#onDrainEvent);
    stream.on("error", this.#onErrorEvent);
    stream.on("close", this.#onGone);
    stream.on("finish", this.#onGone);
  }

  get error(): Error | undefined {
    return this.#error;
  }

  write(chunk: Buffer): boolean {
    if (this.#error || this.#disposed || chunk.length === 0) return true;
    const state = this.#stream as MaybeStreamState;
    if (state.destroyed || state.writableEnded) {
      this.#onGone();
      return true;
    }
    this.#outstanding++;
    const ok = this.#stream.write(chunk, (err) => {
      this.#outstanding--;
      if (err) this.#fail(err);
      this.#settle();
    });
    if (!ok) this.#wantDrain = true;
    return ok;
  }

  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  dispose(): void {
    this.#disposed = true;
    this.#stream.removeListener("drain", this.#onDrainEvent);
    this.#stream.removeListener("error", this.#onErrorEvent);
    this.#stream.removeListener("close", this.#onGone);
    this.#stream.removeListener("finish", this.#onGone);
    this.#settle();
  }

  // A stream that failed may never call back the writes it holds, so a failure counts as idle.
  #isIdle(): boolean {
    return this.#outstanding === 0 || this.#error !== undefined || this.#disposed;
  }

  #settle(): void {
    if (!this.#isIdle()) return;
    for (const w of this.#waiters.splice(0)) w();
  }

  #fail(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    this.#settle();
    this.onError?.(err);
  }
}
