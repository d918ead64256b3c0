// One container's operations are serialized by flock(2) on its state directory: create, start, delete, pause,
// resume and update take it exclusively, kill and exec shared (they change no record, and a signal or a new
// process may go to a container while another does). flock belongs to the open file: the kernel drops it when
// tsrun dies, however it dies, so a killed tsrun never leaves a container locked. The fd is close-on-exec and
// never reaches the executor or a hook.
import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import koffi from "koffi";
import { SyscallError } from "./syscall-error.js";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;

let flockFn: ReturnType<ReturnType<typeof koffi.load>["func"]> | undefined;
const flock = () => {
  flockFn ??= koffi.load("libc.so.6").func("int flock(int fd, int op)");
  return flockFn;
};

export type LockMode = "shared" | "exclusive";

export interface ContainerLock {
  release(): void;
}

/** Opens the directory, or undefined when it does not exist (or is not a directory). */
function openDir(dir: string): number | undefined {
  try {
    return openSync(dir, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/** Whether the locked fd is still the directory at `dir`: a delete that held the lock before us removes it. */
function stillThere(fd: number, dir: string): boolean {
  const held = fstatSync(fd);
  if (held.nlink === 0) return false;
  try {
    const now = statSync(dir);
    return now.ino === held.ino && now.dev === held.dev;
  } catch {
    return false;
  }
}

function held(fd: number): ContainerLock {
  let open = true;
  return {
    release() {
      if (!open) return;
      open = false;
      closeSync(fd); // closing the only fd of the open file drops the flock
    },
  };
}

function tryFlock(fd: number, op: number): boolean {
  if (flock()(fd, op | LOCK_NB) === 0) return true;
  const errno = koffi.errno();
  if (errno === koffi.os.errno.EWOULDBLOCK) return false;
  throw new SyscallError("flock", errno);
}

/**
 * Locks the container directory `dir`, waiting for whoever holds it, without blocking the event loop (the wait is
 * on a worker thread). Undefined when the directory does not exist, or was removed while we waited.
 */
export async function lockContainer(dir: string, mode: LockMode): Promise<ContainerLock | undefined> {
  const fd = openDir(dir);
  if (fd === undefined) return undefined;
  const op = mode === "exclusive" ? LOCK_EX : LOCK_SH;
  try {
    if (!tryFlock(fd, op)) {
      await new Promise<void>((resolve, reject) => {
        flock().async(fd, op, (err: unknown, ret: number) => {
          if (err) reject(err);
          else if (ret < 0) reject(new SyscallError("flock", koffi.errno()));
          else resolve();
        });
      });
    }
    if (!stillThere(fd, dir)) {
      closeSync(fd);
      return undefined;
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return held(fd);
}

/** The same for the synchronous operations (kill, pause, resume, update): blocks the thread while it waits. */
export function lockContainerSync(dir: string, mode: LockMode): ContainerLock | undefined {
  const fd = openDir(dir);
  if (fd === undefined) return undefined;
  try {
    const op = mode === "exclusive" ? LOCK_EX : LOCK_SH;
    while (flock()(fd, op) < 0) {
      const errno = koffi.errno();
      if (errno !== koffi.os.errno.EINTR) throw new SyscallError("flock", errno);
    }
    if (!stillThere(fd, dir)) {
      closeSync(fd);
      return undefined;
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return held(fd);
}
