// Console sockets: the unix socket a runtime connects to with --console-socket to hand over
// a container's pty master. The server side is what containerd's shim and conmon run; the
// client side is what runc does in detached terminal mode.
import { chmodSync, unlinkSync } from "node:fs";
import { constants } from "node:os";
import { resolve } from "node:path";
import { type ReceivedConsole, recvConsole } from "./console-message.js";
import { FdPassError, invalidArgument, syscallError } from "./errors.js";
import { AF_UNIX, lastErrno, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, sys } from "./libc.js";
import { unixAddress } from "./unix-address.js";
import { waitReadable } from "./wait-readable.js";

const { EAGAIN, EINTR, ECONNABORTED } = constants.errno;

export interface ListenOptions {
  /** chmod the socket to this mode before it starts listening (e.g. 0o600). */
  mode?: number;
  /** listen(2) backlog; pending runtimes wait there until accepted (default 128). */
  backlog?: number;
}

function fsError(syscall: string, path: string, e: unknown): FdPassError {
  const code = (e as NodeJS.ErrnoException).code ?? "EIO";
  const errno = (e as NodeJS.ErrnoException).errno;
  return new FdPassError(`${syscall} ${path}: ${code}`, {
    code,
    syscall,
    path,
    cause: e,
    ...(errno === undefined ? {} : { errno: Math.abs(errno) }),
  });
}

/**
 * A listening console socket. Each accepted connection must deliver exactly one pty master;
 * the connection is closed once it has (or has failed to).
 */
export class ConsoleSocketServer implements AsyncIterable<ReceivedConsole> {
  /** Absolute path of the socket. */
  readonly path: string;
  #fd: number;
  readonly #closing = new AbortController();

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /** Creates the socket at `path` (which must not exist) and starts listening. */
  static listen(path: string, opts?: ListenOptions): ConsoleSocketServer {
    const mode = opts?.mode;
    const backlog = opts?.backlog ?? 128;
    if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
      throw invalidArgument(`listen ${path}: invalid mode ${String(mode)}`);
    }
    if (!Number.isInteger(backlog) || backlog < 1) throw invalidArgument(`listen ${path}: invalid backlog`);
    const abs = resolve(path);
    // Non-blocking, so that a connection that vanishes between poll and accept gives EAGAIN
    // instead of stalling the event loop.
    const fd = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw syscallError("socket", lastErrno());
    let ok = false;
    let bound = false;
    try {
      const address = unixAddress(abs, "bind");
      try {
        if (sys.bind(fd, address.addr, address.len) < 0) throw syscallError("bind", lastErrno(), abs);
      } finally {
        address.release();
      }
      bound = true;
      if (mode !== undefined) {
        // Before listen(2): until then every connect is refused, so no peer slips in under
        // the umask's looser mode.
        try {
          chmodSync(abs, mode);
        } catch (e) {
          throw fsError("chmod", abs, e);
        }
      }
      if (sys.listen(fd, backlog) < 0) throw syscallError("listen", lastErrno(), abs);
      ok = true;
      return new ConsoleSocketServer(abs, fd);
    } finally {
      if (!ok) {
        sys.close(fd);
        if (bound) unlinkQuietly(abs);
      }
    }
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Accepts one connection and receives one pty master from it, then closes the connection.
   * Rejects with `signal.reason` when the signal aborts, and with an ECLOSED FdPassError when
   * the server is closed. A peer that connects and never sends keeps this waiting: bound it
   * with a signal, or use acceptConnection() to receive from each peer concurrently.
   */
  async accept(opts?: { signal?: AbortSignal }): Promise<ReceivedConsole> {
    const signal = this.#signal(opts?.signal);
    const conn = await this.#acceptFd(signal);
    try {
      return await recvConsole(conn, { signal });
    } finally {
      sys.close(conn);
    }
  }

  /**
   * Accepts one connection and returns its fd (close-on-exec, blocking), for callers that
   * receive from several peers at once: pass it to recvConsole(), then close it.
   */
  acceptConnection(opts?: { signal?: AbortSignal }): Promise<number> {
    return this.#acceptFd(this.#signal(opts?.signal));
  }

  #signal(user: AbortSignal | undefined): AbortSignal {
    return user ? AbortSignal.any([user, this.#closing.signal]) : this.#closing.signal;
  }

  async #acceptFd(signal: AbortSignal): Promise<number> {
    for (;;) {
      // Re-checked after every await: close() may have run meanwhile and the fd number may
      // already belong to something else.
      if (this.#fd < 0) throw this.#closedError();
      signal.throwIfAborted();
      const conn = sys.accept4(this.#fd, null, null, SOCK_CLOEXEC);
      if (conn >= 0) return conn;
      const errno = lastErrno();
      if (errno === EAGAIN) await waitReadable(this.#fd, signal);
      else if (errno !== EINTR && errno !== ECONNABORTED) throw syscallError("accept", errno, this.path);
    }
  }

  /**
   * Yields one pty master per connection until the server is closed. A peer that sends
   * something else makes the iteration throw; the server stays open and accept() goes on.
   * Leaving the loop early does not close the server.
   */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedConsole, undefined> {
    return {
      next: async () => {
        try {
          return { value: await this.accept(), done: false };
        } catch (e) {
          if (this.closed && e instanceof FdPassError && e.code === "ECLOSED")
            return { value: undefined, done: true };
          throw e;
        }
      },
      return: async () => ({ value: undefined, done: true }),
    };
  }

  /** Stops listening, cancels pending accepts and removes the socket file. Idempotent. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    // Abort first: waiters leave the poll set before the fd number is released.
    this.#closing.abort(this.#closedError());
    sys.close(fd);
    unlinkQuietly(this.path);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #closedError(): FdPassError {
    return new FdPassError(`accept ${this.path}: server closed`, { code: "ECLOSED", path: this.path });
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or replaced by someone else's socket we may not remove: nothing to undo.
  }
}

/**
 * Connects to the console socket at `path` and returns the connected SOCK_STREAM fd,
 * close-on-exec. To give it to a child (as runc's init gets it), pass it in spawn's `stdio`
 * array, or clear FD_CLOEXEC with setCloexec(fd, false).
 */
export function connectConsoleSocket(path: string): number {
  const fd = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw syscallError("socket", lastErrno());
  let ok = false;
  try {
    const address = unixAddress(path, "connect");
    try {
      if (sys.connect(fd, address.addr, address.len) < 0) throw syscallError("connect", lastErrno(), path);
    } finally {
      address.release();
    }
    ok = true;
    return fd;
  } finally {
    if (!ok) sys.close(fd);
  }
}
