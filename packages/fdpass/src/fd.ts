// Small helpers on raw fds. Kept apart so every module closes fds the same way.
import { syscallError } from "./errors.js";
import { F_GETFD, F_SETFD, FD_CLOEXEC, lastErrno, sys } from "./libc.js";

/** Closes every fd in the list, ignoring errors: used on error paths, where the first error wins. */
export function closeQuietly(fds: Iterable<number>): void {
  for (const fd of fds) {
    if (fd >= 0) sys.close(fd);
  }
}

/** Whether fd has FD_CLOEXEC set. */
export function isCloexec(fd: number): boolean {
  const flags = sys.fcntl(fd, F_GETFD);
  if (flags < 0) throw syscallError("fcntl", lastErrno());
  return (flags & FD_CLOEXEC) !== 0;
}

/**
 * Sets or clears FD_CLOEXEC. Clear it only on an fd meant to survive an exec; passing the fd
 * in `child_process.spawn`'s `stdio` array needs no change, because dup2 clears the flag.
 */
export function setCloexec(fd: number, on: boolean): void {
  const flags = sys.fcntl(fd, F_GETFD);
  if (flags < 0) throw syscallError("fcntl", lastErrno());
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if (next !== flags && sys.fcntl(fd, F_SETFD, "int", next) < 0) throw syscallError("fcntl", lastErrno());
}
