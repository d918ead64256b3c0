// The cgroup v2 manager: one directory in the unified tree. Controllers must be enabled in the
// cgroup.subtree_control of every ancestor for the directory to have them.

import { existsSync } from "node:fs";
import { posix } from "node:path";
import type { Resources } from "../spec.js";
import { setDevicesV2 } from "./devices-ebpf.js";
import { CgroupError } from "./errors.js";
import { exists, mkdir, readIfExists, readValue, sleepMs, writePid, writeValue } from "./files.js";
import { UNIFIED_KEY } from "./paths.js";
import { enabledControllers, setResourcesV2 } from "./resources-v2.js";
import { pidsUnder, REMOVE_RETRY_MS, removeTree } from "./tree.js";
import type { CgroupManager } from "./types.js";

export class V2Manager implements CgroupManager {
  readonly paths: Record<string, string>;

  constructor(readonly dir: string) {
    this.paths = { [UNIFIED_KEY]: dir };
  }

  /**
   * mkdir -p from the tree's root down, enabling in each ancestor every controller it has, not only those the
   * resources need: clients (the containerd shim) read memory, cpu, io and pids statistics of every container.
   * Enabling is best effort as in runc: an ancestor holding processes refuses it (no internal processes), and a
   * resource that needs a missing controller is then refused by set() with the controller's name.
   */
  create(): void {
    // The tree's root is the highest directory that is a cgroup (has cgroup.controllers).
    const levels: string[] = [];
    let cur = this.dir;
    while (!existsSync(cur)) {
      levels.unshift(cur);
      cur = posix.dirname(cur);
    }
    while (exists(posix.dirname(cur), "cgroup.controllers") && posix.dirname(cur) !== cur) {
      levels.unshift(cur);
      cur = posix.dirname(cur);
    }
    if (!exists(cur, "cgroup.controllers")) throw new CgroupError(`${cur} is not in a cgroup v2 hierarchy`);
    levels.unshift(cur);
    for (const [i, level] of levels.entries()) {
      if (i > 0) mkdir(level);
      if (level !== this.dir) enableControllers(level);
    }
  }

  apply(pid: number): void {
    writePid(this.dir, pid);
  }

  set(resources: Resources | undefined): void {
    if (resources === undefined) return;
    setResourcesV2(this.dir, resources, enabledControllers(this.dir));
    if (resources.devices !== undefined) setDevicesV2(this.dir, resources.devices);
  }

  pids(): number[] {
    return pidsUnder(this.dir);
  }

  /** Writes cgroup.freeze, then waits (10 s at most, as runc) for cgroup.events to say "frozen 1". */
  freeze(): void {
    writeValue(this.dir, "cgroup.freeze", "1");
    for (let i = 0; i < 1000; i++) {
      const events = readValue(this.dir, "cgroup.events");
      if (/^frozen 1$/m.test(events)) return;
      sleepMs(10);
    }
    try {
      writeValue(this.dir, "cgroup.freeze", "0");
    } catch {
      // The timeout says more than this.
    }
    throw new CgroupError(`timeout of 10s reached waiting for ${this.dir} to freeze`);
  }

  thaw(): void {
    // Kernels before 5.2 have no cgroup.freeze: nothing can be frozen there, so nothing to thaw.
    if (!exists(this.dir, "cgroup.freeze")) return;
    writeValue(this.dir, "cgroup.freeze", "0");
  }

  isFrozen(): boolean {
    return readIfExists(this.dir, "cgroup.freeze")?.trim() === "1";
  }

  destroy(): void {
    removeTree(this.dir, Date.now() + REMOVE_RETRY_MS);
  }
}

/** Enables in `dir`'s subtree_control what `dir` has and has not enabled yet: all at once, else one by one. */
function enableControllers(dir: string): void {
  const available = enabledControllers(dir);
  const enabled = new Set((readIfExists(dir, "cgroup.subtree_control") ?? "").split(/\s+/).filter(Boolean));
  const wanted = [...available].filter((c) => !enabled.has(c)).map((c) => `+${c}`);
  if (wanted.length === 0) return;
  try {
    writeValue(dir, "cgroup.subtree_control", wanted.join(" "));
  } catch {
    for (const one of wanted) {
      try {
        writeValue(dir, "cgroup.subtree_control", one);
      } catch {
        // Left to set(), which names the controller if a resource needs it.
      }
    }
  }
}
