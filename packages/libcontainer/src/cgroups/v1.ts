// The cgroup v1 manager: one directory per mounted hierarchy (several keys share one directory when controllers
// are mounted together, e.g. "cpu" and "cpuacct" on cpu,cpuacct). On a hybrid host the "" key is the directory in
// the cgroup2 tree: it is created, joined and removed, but holds no resources (runc does the same).

import { existsSync } from "node:fs";
import { posix } from "node:path";
import type { Resources } from "../spec.js";
import { CgroupError } from "./errors.js";
import { exists, mkdir, readIfExists, readValue, sleepMs, writePid, writeValue } from "./files.js";
import { setResourcesV1 } from "./resources-v1.js";
import { pidsUnder, REMOVE_RETRY_MS, removeTree } from "./tree.js";
import type { CgroupManager } from "./types.js";

export class V1Manager implements CgroupManager {
  readonly paths: Record<string, string>;

  constructor(paths: Record<string, string>) {
    this.paths = { ...paths };
  }

  /** Each directory once, in a stable order. */
  private dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  create(): void {
    const cpuset = this.paths.cpuset;
    if (cpuset !== undefined) createCpuset(cpuset);
    for (const dir of this.dirs()) mkdirAll(dir);
  }

  apply(pid: number): void {
    for (const dir of this.dirs()) writePid(dir, pid);
  }

  set(resources: Resources | undefined): void {
    if (resources === undefined) return;
    const { "": _unified, ...v1 } = this.paths;
    setResourcesV1(v1, resources);
  }

  pids(): number[] {
    // Any hierarchy lists the same processes; runc reads devices. Prefer those that every v1 host mounts.
    const p = this.paths;
    const dir = p.devices ?? p.freezer ?? p.pids ?? p.memory ?? p[""] ?? this.dirs()[0];
    return dir === undefined ? [] : pidsUnder(dir);
  }

  private freezerDir(): string {
    const dir = this.paths.freezer;
    if (dir === undefined)
      throw new CgroupError("cannot freeze or thaw: the freezer cgroup controller is not mounted");
    return dir;
  }

  /**
   * The v1 freezer can stay in FREEZING while processes keep forking: retry the write, now and then thawing and
   * sleeping a little, as runc does (its numbers), and thaw back if it never settles rather than leave it half-frozen.
   */
  freeze(): void {
    const dir = this.freezerDir();
    let ok = false;
    try {
      for (let i = 0; i < 1000; i++) {
        if (i % 50 === 49) {
          writeValue(dir, "freezer.state", "THAWED");
          sleepMs(10);
        }
        writeValue(dir, "freezer.state", "FROZEN");
        const state = readValue(dir, "freezer.state").trim();
        if (state === "FROZEN") {
          ok = true;
          return;
        }
        if (state !== "FREEZING")
          throw new CgroupError(`unexpected freezer state ${state} in ${dir} while freezing`);
      }
      throw new CgroupError(`cannot freeze ${dir}: still FREEZING after 1000 attempts`);
    } finally {
      if (!ok) {
        try {
          writeValue(dir, "freezer.state", "THAWED");
        } catch {
          // The error being thrown says more than this one.
        }
      }
    }
  }

  thaw(): void {
    writeValue(this.freezerDir(), "freezer.state", "THAWED");
  }

  /** Frozen by itself; a cgroup frozen only through an ancestor is not (freezer.self_freezing), as in runc. */
  isFrozen(): boolean {
    const dir = this.paths.freezer;
    if (dir === undefined) return false;
    for (;;) {
      const state = readIfExists(dir, "freezer.state")?.trim();
      if (state === undefined || state === "THAWED") return false;
      if (state === "FREEZING") {
        sleepMs(1);
        continue;
      }
      const self = readIfExists(dir, "freezer.self_freezing")?.trim();
      return self === undefined || self === "1";
    }
  }

  destroy(): void {
    const errors: string[] = [];
    const deadline = Date.now() + REMOVE_RETRY_MS;
    for (const dir of this.dirs()) {
      try {
        removeTree(dir, deadline);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) throw new CgroupError(errors.join("; "));
  }
}

function mkdirAll(dir: string): void {
  if (existsSync(dir)) return;
  mkdirAll(posix.dirname(dir));
  mkdir(dir);
}

/**
 * A new cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and the kernel refuses tasks until both are
 * set: give every new level (and any empty existing one below the hierarchy's root) its parent's values, top down.
 */
function createCpuset(dir: string): void {
  const levels: string[] = [];
  let cur = dir;
  while (!existsSync(cur)) {
    levels.unshift(cur);
    cur = posix.dirname(cur);
  }
  // Existing levels whose parent is a cpuset cgroup too (not the hierarchy's root) may have been left empty.
  while (exists(cur, "cpuset.cpus") && exists(posix.dirname(cur), "cpuset.cpus")) {
    levels.unshift(cur);
    cur = posix.dirname(cur);
  }
  for (const level of levels) {
    mkdir(level);
    const parent = posix.dirname(level);
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      const mine = readIfExists(level, file);
      if (mine !== undefined && mine.trim() === "") writeValue(level, file, readValue(parent, file).trim());
    }
  }
}
