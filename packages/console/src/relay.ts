import { closeSync, readlinkSync, readSync } from "node:fs";
import type * as tty from "node:tty";
import { Console } from "./console.js";
import { ConsoleError } from "./errors.js";
import { openSource, type Source } from "./input.js";
import {
  getFileFlags,
  O_CLOEXEC,
  O_NOCTTY,
  O_NONBLOCK,
  O_WRONLY,
  setFileFlags,
  sysClose,
  sysDupCloexec,
  sysOpen,
} from "./libc.js";
import { FdWriter, type Sink, StreamWriter } from "./writer.js";

/** node:tty on first use: it loads node:net (~2 ms), which commands without a terminal never need. */
const ttyModule = (): typeof tty => process.getBuiltinModule("node:tty");

export interface RelayOptions {
  /** Copied to the master (keyboard → program). An fd is never closed, nor made non-blocking. */
  input?: NodeJS.ReadableStream | number | null;
  /** Receives what the master yields (program → screen). Never ended, closed or made non-blocking. */
  output: NodeJS.WritableStream | number;
}

export interface Relay {
  /**
   * Resolves once the master side ended (EIO: no slave open anymore, or EOF) or shutdown() was called,
   * and every byte read from the master was written to output; also when output went away early.
   * Rejects only on an unexpected master error (not EIO).
   */
  readonly done: Promise<void>;
  /** Stops input, reads what the kernel still holds for the master, then drains it to output. */
  shutdown(): void;
  /** Why output stopped early (EPIPE, a destroyed stream), if it did. */
  readonly outputError: Error | undefined;
  /** Bytes copied from the master to output, and from input to the master. */
  readonly bytesOut: number;
  readonly bytesIn: number;
}

const DRAIN_CHUNK = 64 * 1024;
// More than a pty can hold (n_tty's 4 KiB plus the 640 KiB flip-buffer limit): past this, a program that
// is still writing after shutdown() is producing new output, not leftovers.
const DRAIN_LIMIT = 2 * 1024 * 1024;

class RelayImpl implements Relay {
  readonly done: Promise<void>;
  bytesOut = 0;
  bytesIn = 0;
  readonly #masterFd: number;
  readonly #masterName: string;
  readonly #reader: tty.ReadStream;
  readonly #readerClosed: Promise<void>;
  readonly #out: Sink;
  /** Our own open of the output terminal, when it is a pty slave (see openTerminalOutput). */
  readonly #ownOutput: tty.WriteStream | undefined;
  readonly #toMaster: FdWriter;
  readonly #source: Source | undefined;
  readonly #restoreFlags: number | undefined;
  #finishing = false;
  #resolve!: () => void;
  #reject!: (err: unknown) => void;
  readonly #onData = (chunk: Buffer): void => this.#emit(chunk, true);

  constructor(master: Console, opts: RelayOptions) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#masterFd = master.fd;
    this.#masterName = master.name;
    this.#source = opts.input === undefined || opts.input === null ? undefined : openSource(opts.input);

    // The master must be non-blocking for libuv's readiness-driven reads; it is ours to change (unlike the
    // user's terminal), and its old flags come back at the end.
    let restoreFlags: number | undefined;
    let readFd = -1;
    try {
      const flags = getFileFlags(this.#masterFd, this.#masterName);
      if ((flags & O_NONBLOCK) === 0) {
        setFileFlags(this.#masterFd, flags | O_NONBLOCK, this.#masterName);
        restoreFlags = flags;
      }
      // A tty.ReadStream closes its fd when destroyed, so it gets a dup and the caller keeps the master.
      readFd = sysDupCloexec(this.#masterFd, this.#masterName);
      this.#reader = new (ttyModule().ReadStream)(readFd);
    } catch (err) {
      this.#source?.stop();
      if (readFd >= 0) closeSync(readFd);
      if (restoreFlags !== undefined) setFileFlags(this.#masterFd, restoreFlags, this.#masterName);
      throw err;
    }
    this.#restoreFlags = restoreFlags;
    this.#readerClosed = new Promise((resolve) => this.#reader.once("close", () => resolve()));
    if (typeof opts.output === "number") {
      this.#ownOutput = openTerminalOutput(opts.output);
      this.#out = this.#ownOutput
        ? new StreamWriter(this.#ownOutput)
        : new FdWriter(opts.output, `fd ${opts.output}`);
    } else {
      this.#out = new StreamWriter(opts.output);
    }
    this.#toMaster = new FdWriter(this.#masterFd, this.#masterName, true);

    this.#out.onDrain = () => {
      if (!this.#finishing) this.#reader.resume();
    };
    this.#out.onError = () => this.#finish(false);
    this.#toMaster.onDrain = () => this.#source?.resume();

    this.#reader.on("data", this.#onData);
    // libuv reports EOF early when poll() says POLLHUP after a short read, while the kernel may still hold
    // output; #drainMaster reads that rest.
    this.#reader.on("end", () => this.#finish(true));
    this.#reader.on("close", () => this.#finish(true));
    this.#reader.on("error", (err: NodeJS.ErrnoException) => {
      // EIO: no slave is open anymore, which is the end of the data, not a failure.
      if (err.code === "EIO") this.#finish(true);
      else this.#finish(true, this.#masterError("read", err));
    });

    this.#source?.start(
      (chunk) => {
        this.bytesIn += chunk.length;
        if (!this.#toMaster.write(chunk)) this.#source?.pause();
      },
      () => this.#source?.stop(),
    );
  }

  get outputError(): Error | undefined {
    return this.#out.error;
  }

  shutdown(): void {
    this.#finish(true);
  }

  #emit(chunk: Buffer, live: boolean): void {
    this.bytesOut += chunk.length;
    if (!this.#out.write(chunk) && live) this.#reader.pause();
  }

  #masterError(op: string, err: NodeJS.ErrnoException): ConsoleError {
    return new ConsoleError(op, {
      path: this.#masterName,
      ...(err.errno === undefined ? {} : { errno: Math.abs(err.errno) }),
      ...(err.code === undefined ? {} : { code: err.code }),
      cause: err,
    });
  }

  // shutdown → drain → close, whatever the reason the relay ends.
  #finish(drainMaster: boolean, failure?: Error): void {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#source?.stop();
    this.#toMaster.dispose();
    this.#reader.removeListener("data", this.#onData);
    if (drainMaster && !this.#out.error) this.#drainMaster();
    this.#reader.destroy();
    void this.#close(failure);
  }

  #drainMaster(): void {
    // Chunks the stream had already taken from the kernel (it may be paused, or have just seen EIO).
    try {
      for (
        let c = this.#reader.read() as Buffer | null;
        c !== null;
        c = this.#reader.read() as Buffer | null
      ) {
        this.#emit(c, false);
      }
    } catch {}
    // Then what the kernel still buffers: the master is non-blocking, so this stops at EAGAIN, or at EIO
    // once the last byte from a closed slave was read.
    const buf = Buffer.allocUnsafe(DRAIN_CHUNK);
    for (let total = 0; total < DRAIN_LIMIT; ) {
      let n: number;
      try {
        n = readSync(this.#masterFd, buf, 0, buf.length, null);
      } catch {
        break;
      }
      if (n === 0) break;
      total += n;
      this.#emit(Buffer.from(buf.subarray(0, n)), false);
    }
  }

  async #close(failure: Error | undefined): Promise<void> {
    await Promise.all([this.#out.idle(), this.#toMaster.idle(), this.#readerClosed, this.#source?.closed()]);
    this.#out.dispose();
    this.#ownOutput?.destroy();
    try {
      if (this.#restoreFlags !== undefined)
        setFileFlags(this.#masterFd, this.#restoreFlags, this.#masterName);
    } catch {
      // The owner may have closed the master already; its flags no longer matter then.
    }
    if (failure) this.#reject(failure);
    else this.#resolve();
  }
}

/**
 * An output fd that is a pty slave (the usual terminal) gets written through our own open of the same terminal,
 * as libuv does for process.stdout: O_NONBLOCK then lands on our file description only, and writes go straight
 * from the event loop instead of one threadpool round trip per chunk. Anything else (a pipe, a file, a console
 * that libuv could only write with blocking calls) stays with FdWriter.
 */
function openTerminalOutput(fd: number): tty.WriteStream | undefined {
  if (!ttyModule().isatty(fd)) return undefined;
  let path: string;
  let own: number;
  try {
    path = readlinkSync(`/proc/self/fd/${fd}`);
    if (!/^\/dev\/pts\/\d+$/.test(path)) return undefined;
    own = sysOpen(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  } catch {
    return undefined;
  }
  let stream: tty.WriteStream;
  try {
    stream = new (ttyModule().WriteStream)(own);
  } catch {
    sysClose(own, path);
    return undefined;
  }
  stream.on("error", () => {}); // reported through StreamWriter; this keeps a late one from being uncaught
  // libuv reopens the terminal once more and dup2()s it over `own`, then writes to (and later closes) that fd.
  const handleFd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (handleFd !== undefined && handleFd !== own) sysClose(own, path);
  return stream;
}

/**
 * Copies master → output and input → master until the master ends (EIO/EOF) or shutdown(), then drains.
 * The master is read readiness-driven (libuv) and written non-blocking; input and output fds are never made
 * non-blocking. The relay closes nothing it was given: close the master after `done`.
 */
export function createRelay(master: Console | number, opts: RelayOptions): Relay {
  const c = typeof master === "number" ? new Console(master) : master;
  if (c.closed) throw new ConsoleError("relay", { path: c.name, code: "EBADF" });
  return new RelayImpl(c, opts);
}
