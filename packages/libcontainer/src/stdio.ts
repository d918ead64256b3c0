// runc's setupIO: the four ways a container's stdio can be wired.
//
//                 foreground (tsrun relays and waits)        detached (tsrun exits after start)
//   terminal      pty master comes back on a socketpair;     pty master goes to --console-socket
//                 host terminal raw, relay, SIGWINCH
//   pass-through  three pipes owned by the container's root;  the container inherits tsrun's fds 0, 1, 2
//                 tsrun copies stdin/stdout/stderr
import { read, write } from "node:fs";
import { connectConsoleSocket, recvConsole, socketpair } from "@tsrun/fdpass";
import { ContainerError } from "./container-error.js";
import * as libc from "./libc.js";

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  ECONNREFUSED: "connection refused",
  EACCES: "permission denied",
  ENOTSOCK: "socket operation on non-socket",
  ENOTDIR: "not a directory",
};

export type IoMode =
  | { kind: "console-socket"; path: string }
  | { kind: "terminal-foreground" }
  | { kind: "inherit" }
  | { kind: "pipes" };

/** runc's checkTerminal, same two rules and words. */
export function ioMode(opts: { terminal: boolean; detach: boolean; consoleSocket?: string }): IoMode {
  if (opts.terminal && opts.detach && !opts.consoleSocket)
    throw new ContainerError("cannot allocate tty if tsrun will detach without setting console socket");
  if (opts.consoleSocket && (!opts.detach || !opts.terminal))
    throw new ContainerError("cannot use console socket if tsrun will not detach or allocate tty");
  if (opts.terminal)
    return opts.consoleSocket
      ? { kind: "console-socket", path: opts.consoleSocket }
      : { kind: "terminal-foreground" };
  return opts.detach ? { kind: "inherit" } : { kind: "pipes" };
}

type StdioSpec = [
  number | "ignore" | "inherit",
  number | "ignore" | "inherit",
  number | "ignore" | "inherit",
];

export interface PreparedIo {
  /** The executor's fds 0, 1, 2. */
  stdio: StdioSpec;
  /** The socket the init sends the pty master to. */
  consoleFd?: number;
  /** Terminal foreground: the master, once the init sends it. */
  master?: Promise<{ fd: number; name: string }>;
  /** Pass-through foreground: our ends of the three pipes. */
  pipes?: { stdin: number; stdout: number; stderr: number };
  /** Closes what only the executor needed; call once it has been spawned. */
  afterSpawn(): void;
  /** Closes everything still open on an error path. */
  abort(): void;
}

export function prepareIo(mode: IoMode, rootUid: number, rootGid: number): PreparedIo {
  const own: number[] = []; // fds to close when the executor has its copies
  const keep: number[] = []; // fds we go on using
  const closeAll = (fds: number[]) => {
    for (const fd of fds.splice(0)) libc.close(fd);
  };
  const base = {
    afterSpawn: () => closeAll(own),
    abort: () => {
      closeAll(own);
      closeAll(keep);
    },
  };
  switch (mode.kind) {
    case "console-socket": {
      // Connect now, so a dead socket fails create before anything is set up; the init sends the master and
      // closes its copy, so nothing of ours stays connected once the executor has it.
      let fd: number;
      try {
        fd = connectConsoleSocket(mode.path);
      } catch (e) {
        // Worded as runc's (Go's) dial error: podman turns "no such file or directory" into exit 127.
        const code = (e as { code?: string }).code ?? "";
        throw new ContainerError(
          `dial unix ${mode.path}: connect: ${ERRNO_TEXT[code] ?? code.toLowerCase()}`,
        );
      }
      own.push(fd);
      return { ...base, stdio: ["ignore", "ignore", "ignore"], consoleFd: fd };
    }
    case "terminal-foreground": {
      const [ours, theirs] = socketpair("stream");
      own.push(theirs);
      keep.push(ours);
      const master = recvConsole(ours).finally(() => {
        keep.splice(keep.indexOf(ours), 1);
        libc.close(ours);
      });
      master.catch(() => {});
      return { ...base, stdio: ["ignore", "ignore", "ignore"], consoleFd: theirs, master };
    }
    case "inherit":
      return { ...base, stdio: ["inherit", "inherit", "inherit"] };
    case "pipes": {
      const [inR, inW] = libc.pipe();
      const [outR, outW] = libc.pipe();
      const [errR, errW] = libc.pipe();
      own.push(inR, outW, errW);
      keep.push(inW, outR, errR);
      // The container's root must be able to reopen its stdio (/proc/self/fd/N) after a user-namespace switch.
      for (const fd of [inR, outW, errW]) libc.fchown(fd, rootUid, rootGid);
      // Room for a burst of output while our last chunk is being written (best effort: 64 KiB is the default).
      libc.setPipeSize(outR, 1024 * 1024);
      libc.setPipeSize(errR, 1024 * 1024);
      return { ...base, stdio: [inR, outW, errW], pipes: { stdin: inW, stdout: outR, stderr: errR } };
    }
  }
}

/**
 * Copies our stdin into the container's stdin pipe and its stdout/stderr pipes to ours. Everything is read and
 * written with blocking calls on the threadpool: O_NONBLOCK on our fds 0-2 would be shared with the user's shell,
 * and our own pipe ends are blocking too. (No net.Socket and no stream.pipe(): pipe() compares its destination with
 * process.stdout, whose lazy getter makes a pipe on fd 1 non-blocking.) Resolves when both output pipes reached
 * EOF and all was written.
 */
export function relayPipes(pipes: { stdin: number; stdout: number; stderr: number }): Promise<void> {
  // Our stdin ends when the user's does (or never, for a terminal: tsrun then exits without waiting for it).
  void copyFd(0, pipes.stdin, STDIN_CHUNK).then(() => libc.close(pipes.stdin));
  return Promise.all([
    copyFd(pipes.stdout, 1, OUTPUT_CHUNK).then(() => libc.close(pipes.stdout)),
    copyFd(pipes.stderr, 2, OUTPUT_CHUNK).then(() => libc.close(pipes.stderr)),
  ]).then(() => {});
}

const STDIN_CHUNK = 64 * 1024;
// Large reads let one threadpool round trip carry everything the container wrote meanwhile (with the 1 MiB pipes
// from prepareIo), instead of one trip per 4 KiB write of a busybox program.
const OUTPUT_CHUNK = 1024 * 1024;
const MAX_RETRY_MS = 50;

/**
 * Copies `from` to `to` until EOF on `from` or a read error (EBADF: no stdin at all), with one read and one
 * write in flight at a time on two buffers, so reading the next chunk overlaps writing the last. A failed write
 * (EPIPE: our reader went away) stops the copy, as runc's io.Copy would; EAGAIN (someone else made the fd
 * non-blocking) is retried after a short back-off. Closes nothing.
 */
function copyFd(from: number, to: number, chunk: number): Promise<void> {
  return new Promise((resolve) => {
    const free: Buffer[] = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
    const full: { buf: Buffer; off: number; end: number }[] = [];
    let reading = false;
    let writing = false;
    let ended = false;
    let delay = 0;
    const backoff = (retry: () => void) => {
      delay = Math.min(delay === 0 ? 1 : delay * 2, MAX_RETRY_MS);
      setTimeout(retry, delay);
    };
    const settle = () => {
      if (ended && !reading && !writing && full.length === 0) resolve();
    };
    const pumpRead = (): void => {
      if (reading || ended || free.length === 0) return;
      const buf = free.pop()!;
      reading = true;
      read(from, buf, 0, buf.length, null, (err, n) => {
        reading = false;
        if (err && (err.code === "EAGAIN" || err.code === "EINTR")) {
          free.push(buf);
          if (!ended) backoff(pumpRead);
          else settle();
          return;
        }
        if (err || n === 0 || ended) {
          free.push(buf);
          ended = true;
          settle();
          return;
        }
        full.push({ buf, off: 0, end: n });
        pumpWrite();
        pumpRead();
      });
    };
    const pumpWrite = (): void => {
      const head = full[0];
      if (writing || !head) {
        settle();
        return;
      }
      writing = true;
      write(to, head.buf, head.off, head.end - head.off, null, (err, n) => {
        writing = false;
        if (err && (err.code === "EAGAIN" || err.code === "EINTR")) {
          backoff(pumpWrite);
          return;
        }
        if (err) {
          // Drop what is queued and stop reading; a read still in flight finishes on its own.
          ended = true;
          full.length = 0;
          settle();
          return;
        }
        delay = 0;
        head.off += n;
        if (head.off < head.end) {
          pumpWrite();
          return;
        }
        full.shift();
        free.push(head.buf);
        pumpWrite();
        pumpRead();
      });
    };
    pumpRead();
  });
}
