// exec.fifo splits create from start, as in runc: the init, fully set up, blocks opening the fifo for writing;
// `start` opens it for reading, which releases the init into execve. The fifo existing is what "created" means.
import { chmodSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { ContainerError } from "./container-error.js";
import * as libc from "./libc.js";
import { EXEC_FIFO } from "./state.js";

/** Makes <dir>/exec.fifo writable by the container's root and returns an O_PATH fd for the init to reopen. */
export function createExecFifo(dir: string, uid: number, gid: number): number {
  const path = join(dir, EXEC_FIFO);
  libc.mkfifo(path, 0o622);
  // mkfifo's mode goes through the umask (0600 under the usual 022), which leaves a non-root init unable to
  // open the fifo for writing: it dies at the wait and `start` finds a stopped container.
  chmodSync(path, 0o622);
  libc.chown(path, uid, gid);
  // O_PATH: the init holds no real fifo open, so a container process can never read or write it through /proc.
  return libc.open(path, libc.O_PATH);
}

/**
 * Releases a created init: opens the fifo without blocking and waits for its byte, watching the init's pidfd too,
 * so an init that died before `start` fails at once instead of hanging (runc#1697).
 */
export async function releaseInit(dir: string, pid: number): Promise<void> {
  const path = join(dir, EXEC_FIFO);
  // The pidfd first: once the fifo is open the init runs its program, which may exit and be reaped (by a
  // foreground run's waitpid) before a later pidfd_open, which would then fail with ESRCH.
  let pidfd: number;
  try {
    pidfd = libc.pidfdOpen(pid);
  } catch {
    throw new ContainerError("cannot start a container that has stopped");
  }
  let fifo = -1;
  try {
    try {
      fifo = libc.open(path, libc.O_RDONLY | libc.O_NONBLOCK);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT")
        throw new ContainerError("cannot start an already running container");
      throw e;
    }
    // Our open has released the init (or will, when it opens its end): from here the container is running, so the
    // fifo goes now, not after the byte. A start killed in between must not leave a running program that state
    // calls created and that a second start waits on until it exits.
    unlinkSync(path);
    for (;;) {
      // Sync poll first: the init is usually already waiting, and a worker thread costs more than the wait.
      let ready = libc.pollIn([fifo, pidfd], 0);
      if (ready.length === 0) ready = await libc.pollInAsync([fifo, pidfd], -1);
      if (ready.includes(0)) {
        const b = libc.read(fifo, 1);
        if (b === null) continue;
        if (b.length === 1) break;
      }
      if (ready.includes(1) || ready.includes(0)) {
        // A hang-up with no byte, or the init exited: nothing will ever be written.
        throw new ContainerError("cannot start a container that has stopped");
      }
    }
  } finally {
    if (fifo >= 0) libc.close(fifo);
    libc.close(pidfd);
  }
}
