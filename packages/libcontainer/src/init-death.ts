// create's last check of its init. The init closes its channel at the exec.fifo wait, but an init killed on its way
// there (by the OOM killer under a tight memory limit, by a seccomp filter) closes it too, with no error frame, and
// create would report a container that is already dead. /proc tells the two apart without a race: the kernel marks a
// task exiting (PF_EXITING) and records its exit code before it closes the task's fds.
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { UNIFIED_KEY } from "./cgroups/index.js";
import { oomCount } from "./events.js";

const PF_EXITING = 0x4;

/** Why the init (our child, not reaped yet) is dead or dying after its channel closed; undefined while it waits. */
export function initDeath(pid: number, cgroupPaths: Record<string, string>): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return "container init exited during create";
  }
  // Fields from 3 on, after the command name (which may hold spaces and parentheses).
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = f[0];
  const flags = Number(f[6]);
  if (state !== "Z" && state !== "X" && !(flags & PF_EXITING)) return undefined;
  const status = Number(f[49]); // exit_code, as waitpid would report it
  const sig = status & 0x7f;
  const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0] ?? `signal ${sig}`;
  const how = sig !== 0 ? `was killed by ${name}` : `exited with status ${(status >> 8) & 0xff}`;
  const oom = oomKilled(cgroupPaths) ? " (out of memory: linux.resources.memory.limit is too low)" : "";
  return `container init ${how} during create${oom}`;
}

function oomKilled(paths: Record<string, string>): boolean {
  const v2 = Object.keys(paths).length === 1 && paths[UNIFIED_KEY] !== undefined;
  const dir = v2 ? paths[UNIFIED_KEY] : paths.memory;
  return dir !== undefined && (oomCount(dir, v2) ?? 0n) > 0n;
}
