// runc's setupIO: the four ways a container's stdio can be wired.
//
//                 foreground (tsrun relays and waits)        detached (tsrun exits after start)
//   terminal      pty master comes back on a socketpair;     pty master goes to --console-socket
//                 host terminal raw, relay, SIGWINCH
//   pass-through  three pipes owned by the container's root;  the container inherits tsrun's fds 0, 1, 2
//                 tsrun copies stdin/stdout/stderr
import { createReadStream, write } from "node:fs";
import { Socket } from "node:net";
import { connectConsoleSocket, recvConsole, socketpair } from "@tsrun/fdpass";
import { ContainerError } from "./container-error.js";
import * as libc from "./libc.js";

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
      const fd = connectConsoleSocket(mode.path);
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
      return { ...base, stdio: [inR, outW, errW], pipes: { stdin: inW, stdout: outR, stderr: errR } };
    }
  }
}

/**
 * Copies our stdin into the container's stdin pipe and its stdout/stderr pipes to ours. Our fds 0-2 are read and
 * written with blocking calls on the threadpool: O_NONBLOCK on them would be shared with the user's shell. Our
 * own pipe ends are event-driven sockets. Resolves when both output pipes reached EOF and all was written.
 */
export function relayPipes(pipes: { stdin: number; stdout: number; stderr: number }): Promise<void> {
  pumpStdin(pipes.stdin);
  return Promise.all([pump(pipes.stdout, 1), pump(pipes.stderr, 2)]).then(() => {});
}

function pump(from: number, to: number): Promise<void> {
  return new Promise((resolve) => {
    const sock = new Socket({ fd: from, readable: true, writable: false });
    let writing = Promise.resolve();
    sock.on("data", (chunk: Buffer) => {
      sock.pause();
      writing = writing
        .then(() => writeAll(to, chunk))
        .then(
          () => {
            sock.resume();
          },
          () => {
            sock.destroy(); // our side went away (EPIPE): drop the rest, as runc's copy would stop
          },
        );
    });
    sock.on("error", () => {});
    sock.on("close", () => writing.then(resolve, resolve));
  });
}

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) => {
      if (off >= buf.length) return resolve();
      write(fd, buf, off, buf.length - off, null, (e, n) => (e ? reject(e) : step(off + n)));
    };
    step(0);
  });
}

function pumpStdin(to: number): void {
  const sink = new Socket({ fd: to, readable: false, writable: true });
  sink.on("error", () => {}); // EPIPE: the container closed its stdin or exited
  const source = createReadStream("", { fd: 0, autoClose: false, highWaterMark: 1 << 16 });
  source.on("error", () => sink.end()); // no stdin at all (EBADF) reads as an empty one
  source.pipe(sink);
}
