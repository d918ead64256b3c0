// kill: a signal to the init, or with --all to every process in the container's cgroup.
import { constants } from "node:os";
import { loadContainer } from "./container.js";
import { ContainerError, notExist } from "./container-error.js";
import * as libc from "./libc.js";
import { lockContainerSync } from "./lock.js";
import { containerDir } from "./state.js";

/** runc accepts 9, KILL and SIGKILL alike. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0 && n < 65) return n;
  }
  const name = s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new ContainerError(`unknown signal "${s}"`);
  return n;
}

export function killContainer(root: string, id: string, signal: number, all = false): void {
  // Shared: signals may go to a container from several callers at once, never while it is created or deleted.
  const lock = lockContainerSync(containerDir(root, id), "shared");
  if (!lock) throw notExist();
  try {
    killLocked(root, id, signal, all);
  } finally {
    lock.release();
  }
}

function killLocked(root: string, id: string, signal: number, all: boolean): void {
  const c = loadContainer(root, id);
  if (c.status === "stopped" && !all) throw new ContainerError("container not running");
  if (all) {
    // containerd sends kill --all after the init is gone when there is no pid namespace of its own: the init's
    // children live on in the cgroup and must get the signal too (runc's signalAllProcesses). With no cgroup
    // left there is nobody to signal, and that is not an error.
    if (c.status === "stopped") {
      let pids: number[];
      try {
        pids = c.cgroups.pids();
      } catch {
        return;
      }
      if (pids.length === 0) return;
    }
    // As runc: frozen, nothing forks past the signal; thawed afterwards even if it was paused, since a frozen
    // process does not act on SIGKILL until it runs again.
    try {
      c.cgroups.freeze();
    } catch {}
    try {
      for (const pid of c.cgroups.pids()) libc.kill(pid, signal);
    } finally {
      try {
        c.cgroups.thaw();
      } catch {}
    }
    return;
  }
  if (!libc.kill(c.state.pid, signal)) throw new ContainerError("container not running");
}
