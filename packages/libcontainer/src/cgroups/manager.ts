// Choosing and building the manager for this host: the hierarchies from mountinfo, the directories from the
// cgroupsPath rules, then a v1 (also hybrid) or v2 manager.

import { CGROUP_MOUNT_ROOT, detectLayout, parseSelfCgroup, readMountinfo, readSelfCgroup } from "./detect.js";
import { CgroupError } from "./errors.js";
import { resolvePaths, UNIFIED_KEY } from "./paths.js";
import type { CgroupManager } from "./types.js";
import { V1Manager } from "./v1.js";
import { V2Manager } from "./v2.js";

export interface CgroupManagerOptions {
  /** linux.cgroupsPath; absent: the container id under the runtime's own cgroup, as runc. */
  cgroupsPath?: string;
  id: string;
  /** Where the hierarchies mounted under /sys/fs/cgroup really are (tests: a temporary tree). */
  root?: string;
  /** /proc/self/mountinfo text (default: read it). */
  mountinfo?: string;
  /** /proc/self/cgroup text (default: read it when a relative path needs it). */
  selfCgroup?: string;
}

export function cgroupManager(opts: CgroupManagerOptions): CgroupManager {
  const layout = detectLayout(opts.mountinfo ?? readMountinfo());
  const paths = resolvePaths(layout, {
    cgroupsPath: opts.cgroupsPath,
    id: opts.id,
    root: opts.root ?? CGROUP_MOUNT_ROOT,
    self: () => parseSelfCgroup(opts.selfCgroup ?? readSelfCgroup()),
  });
  return layout.mode === "v2" ? new V2Manager(paths[UNIFIED_KEY]!) : new V1Manager(paths);
}

/**
 * The manager of directories saved earlier (state.json's cgroup paths). Only "" (or "unified"): cgroup v2;
 * otherwise v1 with "" as the hybrid host's unified directory.
 */
export function cgroupManagerFromPaths(paths: Record<string, string>): CgroupManager {
  const normalized: Record<string, string> = {};
  for (const [key, dir] of Object.entries(paths)) {
    if (!dir.startsWith("/"))
      throw new CgroupError(`cgroup path ${JSON.stringify(dir)} for ${key || "unified"} is not absolute`);
    normalized[key === "unified" ? UNIFIED_KEY : key] = dir;
  }
  const keys = Object.keys(normalized);
  if (keys.length === 0) throw new CgroupError("no cgroup paths to manage");
  if (keys.length === 1 && keys[0] === UNIFIED_KEY) return new V2Manager(normalized[UNIFIED_KEY]!);
  return new V1Manager(normalized);
}
