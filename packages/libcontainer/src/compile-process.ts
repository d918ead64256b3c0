// The process half of the plan: rlimits, identity, capabilities, hooks run by the init, and the final exec.

import { capMasks } from "./capabilities.js";
import { type Op, op } from "./plan.js";
import { RLIMITS, rlimitValue } from "./rlimits.js";
import type { Hook, IDMapping, Process } from "./spec.js";

export function rlimitOps(process: Process): Op[] {
  return (process.rlimits ?? []).map((r) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new Error(`unknown rlimit ${r.type}`);
    return op.rlimit(resource, rlimitValue(r.soft), rlimitValue(r.hard));
  });
}

/**
 * runc's finalizeNamespace: drop the bounding set while still root, switch user keeping the permitted set,
 * chdir as the user (so a cwd the user cannot reach fails here, at create time), then set the final sets.
 */
export function identityOps(process: Process, lastCap: number): Op[] {
  const caps = capMasks(process.capabilities, lastCap);
  const user = process.user;
  return [
    op.capBounding(caps.bounding),
    op.setuser(user.uid, user.gid, user.additionalGids ?? []),
    op.chdir(process.cwd),
    op.caps(caps.effective, caps.permitted, caps.inheritable, caps.ambient),
  ];
}

/** Hooks the init runs itself (createContainer, startContainer), with the container state on stdin. */
export function hookOps(label: string, hooks: readonly Hook[] | undefined): Op[] {
  return (hooks ?? []).map((h) => op.hook(label, h.path, h.timeout ?? 0, h.args ?? [h.path], h.env ?? []));
}

/**
 * Resolves the program now, as the container user in the container's root, so that a missing or
 * non-executable one fails `create`, not `start` (runc's exec.LookPath before the fifo wait).
 */
export function lookupOp(process: Process): Op {
  return op.lookup(process.args?.[0] ?? "", process.env ?? []);
}

export function execOp(process: Process): Op {
  const args = process.args ?? [];
  return op.exec(args[0] ?? "", args, process.env ?? []);
}

/** /proc/<pid>/uid_map and gid_map contents: one "inside outside count" line per mapping. */
export const idMapText = (maps: readonly IDMapping[]): string =>
  maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
