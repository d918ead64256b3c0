// linux.cgroupsPath → one directory per hierarchy, by runc's rules for the cgroupfs (non-systemd) driver:
// - absolute ("/ns/id"): under the root of every hierarchy;
// - relative ("a/b"): under the runtime's own cgroup in that hierarchy, from /proc/self/cgroup. On v2 runc uses
//   the parent of its own cgroup (its own one holds processes, so it could not enable controllers for children);
//   for the unified tree of a hybrid host runc ignores its own cgroup and uses the tree's root;
// - absent: the container id, as a relative path (runc: Name = id, Parent = ""), so `/<own cgroup>/<id>`.
// Paths are cleaned lexically first so that "../" cannot climb out of a hierarchy.

import { posix } from "node:path";
import { CGROUP_MOUNT_ROOT, type CgroupLayout, type CgroupMount } from "./detect.js";
import { CgroupError } from "./errors.js";

/** The key of the v2 directory in `paths`, as in runc's state.json (`"": "/sys/fs/cgroup/unified/id"`). */
export const UNIFIED_KEY = "";

/** runc's CleanPath: absolute paths are normalized, relative ones cannot escape upwards. */
export function cleanCgroupsPath(path: string): string {
  if (path === "") return "";
  if (path.startsWith("/")) return posix.normalize(path).replace(/(.)\/+$/, "$1");
  const rooted = posix.normalize(`/${path}`);
  return rooted.slice(1).replace(/\/+$/, "");
}

export interface PathOptions {
  cgroupsPath?: string | undefined;
  id: string;
  /** Where /sys/fs/cgroup really is (tests point it at a temporary tree). */
  root: string;
  /** /proc/self/cgroup parsed by parseSelfCgroup; needed only for relative paths. */
  self: () => Map<string, string>;
}

/** Host directory of a mount, with /sys/fs/cgroup moved to `root`. */
export function mountDir(mount: CgroupMount, root: string): string {
  return posix.join(root, mount.mountpoint.slice(CGROUP_MOUNT_ROOT.length) || "/");
}

/** A cgroup path as shown by /proc/self/cgroup, made relative to what the mount shows as its root. */
function underMountRoot(own: string, mountRoot: string): string {
  if (mountRoot === "/" || mountRoot === "") return own;
  if (own === mountRoot) return "/";
  if (own.startsWith(`${mountRoot}/`)) return own.slice(mountRoot.length);
  return own;
}

export function resolvePaths(layout: CgroupLayout, opts: PathOptions): Record<string, string> {
  const inner = cleanCgroupsPath(opts.cgroupsPath ?? "") || cleanCgroupsPath(opts.id);
  if (inner === "" || inner === "/") {
    throw new CgroupError(`cgroupsPath ${JSON.stringify(opts.cgroupsPath ?? "")} names the root cgroup`);
  }
  const absolute = inner.startsWith("/");
  let self: Map<string, string> | undefined;
  const own = (key: string, mount: CgroupMount): string => {
    self ??= opts.self();
    const path = self.get(key) ?? self.get(mount.controllers.join(","));
    if (path === undefined) {
      throw new CgroupError(`cannot find the ${key === "" ? "unified" : key} cgroup of this process`);
    }
    return underMountRoot(path, mount.root);
  };

  const paths: Record<string, string> = {};
  if (layout.mode === "v2") {
    const dir = mountDir(layout.unified, opts.root);
    paths[UNIFIED_KEY] = absolute
      ? posix.join(dir, inner)
      : posix.join(dir, posix.dirname(own(UNIFIED_KEY, layout.unified)), inner);
    return paths;
  }
  for (const mount of layout.v1) {
    const dir = mountDir(mount, opts.root);
    for (const controller of mount.controllers) {
      paths[controller] = absolute ? posix.join(dir, inner) : posix.join(dir, own(controller, mount), inner);
    }
  }
  if (layout.mode === "hybrid") paths[UNIFIED_KEY] = posix.join(mountDir(layout.unified, opts.root), inner);
  return paths;
}
