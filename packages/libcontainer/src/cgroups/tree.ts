// Walking a cgroup directory and its descendants: listing their processes, removing them deepest first.

import * as fs from "node:fs";
import { posix } from "node:path";
import { CgroupError, errnoOf } from "./errors.js";
import { readIfExists, sleepMs } from "./files.js";

function subdirs(dir: string): string[] | undefined {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
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

/**
 * rmdir with retries while EBUSY: a cgroup stays busy for a moment after its last process died (the kernel
 * releases it asynchronously). About a second in all, doubling the wait each time.
 */
function rmdir(dir: string, retry: boolean): string | undefined {
  let delay = 1;
  for (let tries = 0; ; tries++) {
    try {
      fs.rmdirSync(dir);
      return undefined;
    } catch (err) {
      const code = errnoOf(err);
      if (code === "ENOENT") return undefined;
      if (code === "EBUSY" && retry && tries < 10) {
        sleepMs(delay);
        delay *= 2;
        continue;
      }
      return code;
    }
  }
}

/** Removes `dir` and every sub-cgroup below it, deepest first. */
export function removeTree(dir: string): void {
  if (rmdir(dir, false) === undefined) return;
  const subs = subdirs(dir);
  if (subs === undefined) return;
  for (const sub of subs) removeTree(sub);
  const code = rmdir(dir, true);
  if (code !== undefined) throw new CgroupError(`rmdir ${dir}: ${code}`, code);
}
