// run: create + start in one tsrun process. Detached, tsrun exits once the program runs; in the foreground it
// relays the container's stdio (a pty or pipes), forwards signals, waits for the init by pid and returns its
// exit status as runc does (128+n for a signal), then deletes the container.
import { constants } from "node:os";
import {
  type Console,
  consoleFromFd,
  createRelay,
  current,
  followWindowSize,
  restoreOnExit,
} from "@tsrun/console";
import { type CreateOptions, createContainer } from "./create.js";
import { deleteContainer } from "./delete.js";
import * as libc from "./libc.js";
import { startContainer } from "./start.js";
import { type PreparedIo, relayPipes } from "./stdio.js";

/** Signals a foreground tsrun passes on to the container's init rather than dying of them. */
const FORWARDED = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGCONT",
  "SIGPWR",
] as const;

export interface RunOptions extends CreateOptions {
  /** Keep the container's state after a foreground run ends (runc's --keep). */
  keep?: boolean;
}

/** Returns the exit code tsrun should exit with. */
export async function runContainer(opts: RunOptions): Promise<number> {
  // As runc: in the foreground, a signal that comes while the container is being made (a Ctrl-C during a slow
  // hook) is held and passed on once the program runs, instead of killing tsrun half-way through create, which
  // would leave the container's state and cgroups behind.
  const hold = opts.detach ? undefined : holdSignals();
  let created: Awaited<ReturnType<typeof createContainer>>;
  let held: NodeJS.Signals[] = [];
  try {
    created = await createContainer(opts);
  } finally {
    held = hold?.release() ?? [];
  }
  const { state, io } = created;
  if (opts.detach) {
    await startContainer(opts.root, opts.id).catch(async (e) => {
      await deleteContainer(opts.root, opts.id, true).catch(() => {});
      throw e;
    });
    return 0;
  }

  const exit = libc.waitExit(state.pid);
  const fg = await attachForeground(io, state.pid, exit).catch(async (e) => {
    if (!opts.keep) await deleteContainer(opts.root, opts.id, true).catch(() => {});
    throw e;
  });
  try {
    await startContainer(opts.root, opts.id);
    forwardHeld(state.pid, held);
    const code = await exit;
    await fg.relayDone;
    return code;
  } finally {
    fg.dispose();
    if (!opts.keep) await deleteContainer(opts.root, opts.id, true).catch(() => {});
  }
}

/**
 * Catches the signals a foreground tsrun forwards until `release`, which returns them in order: a signal that comes
 * before the process runs is passed on once it does, rather than killing tsrun half-way through setting it up.
 */
export function holdSignals(): { release(): NodeJS.Signals[] } {
  const held: NodeJS.Signals[] = [];
  const hold = (sig: NodeJS.Signals) => held.push(sig);
  for (const sig of FORWARDED) process.on(sig, hold);
  return {
    release() {
      for (const sig of FORWARDED) process.off(sig, hold);
      return held;
    },
  };
}

/** Sends held signals on to `pid`, in order. */
export function forwardHeld(pid: number, held: readonly NodeJS.Signals[]): void {
  for (const sig of held) libc.kill(pid, constants.signals[sig]);
}

export interface Foreground {
  /** Settles when all of the process's output has been written out. */
  relayDone: Promise<void>;
  /** Restores the host terminal, stops following its size and forwarding signals. */
  dispose(): void;
}

/**
 * The foreground half shared by run and exec: signals we receive go to `pid`, and its stdio is relayed, either
 * a pty (host terminal raw, ONLCR cleared on the master, window size followed, restored at the end) or pipes.
 * `exit` settles when `pid` has exited.
 */
export async function attachForeground(
  io: PreparedIo,
  pid: number,
  exit: Promise<number>,
): Promise<Foreground> {
  const handlers = new Map<string, () => void>();
  for (const sig of FORWARDED) {
    const h = () => libc.kill(pid, constants.signals[sig]);
    handlers.set(sig, h);
    process.on(sig, h);
  }
  let relayDone: Promise<void> = Promise.resolve();
  let cleanupTerminal = () => {};
  const dispose = () => {
    cleanupTerminal();
    for (const [sig, h] of handlers) process.off(sig, h);
  };
  try {
    if (io.master) {
      const m = await io.master;
      const master = consoleFromFd(m.fd, { name: m.name, owned: true });
      // The container's own line discipline already turned \n into \r\n once; the host terminal does it again.
      master.clearONLCR();
      let host: Console | undefined;
      try {
        host = current();
      } catch {
        host = undefined; // no terminal on our side (a pipe): relay plain bytes
      }
      const restore = host ? restoreOnExit(host) : undefined;
      const follower = host ? followWindowSize(host, master) : undefined;
      host?.setRaw();
      const relay = createRelay(master, { input: 0, output: 1 });
      relayDone = relay.done;
      cleanupTerminal = () => {
        follower?.stop();
        host?.reset();
        restore?.dispose();
        master.close();
      };
      exit.then(() => {
        // The process is gone; anything still holding the slave (a daemon without a pid namespace) must not keep us.
        setTimeout(() => relay.shutdown(), 200).unref();
      });
    } else if (io.pipes) {
      relayDone = relayPipes(io.pipes);
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { relayDone, dispose };
}
