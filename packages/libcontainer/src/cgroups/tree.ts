// Walking a cgroup directory and its descendants: listing their processes, removing them deepest first.

import { readdirSync, rmdirSync } from "node:fs";
import { posix } from "node:path";
import { CgroupError, errnoOf } from "./errors.js";
import { readIfExists, sleepMs } from "./files.js";

function subdirs(dir: string): string[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => posix.join(dir, e.name));
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw new CgroupError(`read directory ${dir}: ${errnoOf(err)}`, errnoOf(err), { cause: err });
  }
}

/** Every pid listed in cgroup.procs of `dir` and of its descendants; a missing directory has none. */
export function pidsUnder(dir: string): number[] {
  const pids = new Set<number>();
  const visit = (d: string) => {
    const procs = readIfExists(d, "cgroup.procs");
    if (procs === undefined) return;
    for (const line of procs.split("\n")) if (line !== "") pids.add(Number(line));
    for (const sub of subdirs(d) ?? []) visit(sub);
  };
  visit(dir);
  return [...pids].sort((a, b) => a - b);
}

/** How long destroy() retries EBUSY in all, across every directory: a cgroup whose process is still alive stays busy. */
export const REMOVE_RETRY_MS = 1000;

/**
 * rmdir, retrying while EBUSY until `deadline`: a cgroup stays busy for a moment after its last process died
 * (the kernel releases it asynchronously). The wait doubles from 1 ms.
 */
function rmdir(dir: string, deadline: number): string | undefined {
  let delay = 1;
  for (;;) {
    try {
      rmdirSync(dir);
      return undefined;
    } catch (err) {
      const code = errnoOf(err);
      if (code === "ENOENT") return undefined;
      const left = deadline - Date.now();
      if (code !== "EBUSY" || left <= 0) return code;
      sleepMs(Math.min(delay, left));
      delay *= 2;
    }
  }
}

/** Removes `dir` and every sub-cgroup below it, deepest first, retrying EBUSY until `deadline` (a Date.now()). */
export function removeTree(dir: string, deadline: number): void {
  if (rmdir(dir, 0) === undefined) return;
  const subs = subdirs(dir);
  if (subs === undefined) return;
  for (const sub of subs) removeTree(sub, deadline);
  const code = rmdir(dir, deadline);
  if (code !== undefined) throw new CgroupError(`rmdir ${dir}: ${code}`, code);
}
