// Which cgroup hierarchies the host has, from /proc/self/mountinfo, and where this process sits in each of them,
// from /proc/self/cgroup. Pure text parsing, so any layout can be tested from a fixture.
//
// - v2 ("unified"): /sys/fs/cgroup is a cgroup2 mount.
// - v1: one cgroup mount per controller set under /sys/fs/cgroup (cpu, "cpu,cpuacct", name=systemd named ones).
// - hybrid: v1, plus a cgroup2 mount (systemd puts it at /sys/fs/cgroup/unified) that processes join as well.

import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { CgroupError } from "./errors.js";

/** Where the kernel's cgroup hierarchies conventionally live; the `root` option relocates this prefix. */
export const CGROUP_MOUNT_ROOT = "/sys/fs/cgroup";

export interface CgroupMount {
  /** Mount point in the host's view, e.g. /sys/fs/cgroup/memory. */
  mountpoint: string;
  /** The cgroup the mount shows as its root (mountinfo field 4): "/" on a host, deeper inside a container. */
  root: string;
  /** v1: the controllers and names of the hierarchy ("cpu", "cpuacct", "name=systemd"); v2: empty. */
  controllers: string[];
}

export type CgroupLayout =
  | { mode: "v2"; unified: CgroupMount }
  | { mode: "v1"; v1: CgroupMount[] }
  | { mode: "hybrid"; v1: CgroupMount[]; unified: CgroupMount };

const unescapeOctal = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

// Mount options of the v1 cgroup filesystem that are not controllers.
const V1_NON_CONTROLLER = new Set([
  "rw",
  "ro",
  "xattr",
  "noprefix",
  "clone_children",
  "cpuset_v2_mode",
  "favordynmods",
]);

/**
 * The cgroup mounts at or directly under /sys/fs/cgroup, in mount order; a later mount on the same mount point
 * hides the earlier one. Mounts elsewhere (a container's rootfs, a bind for a test) are not the host's hierarchies.
 */
export function parseCgroupMounts(mountinfo: string): (CgroupMount & { fstype: string })[] {
  const byMountpoint = new Map<string, CgroupMount & { fstype: string }>();
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const [fstype, , superOpts = ""] = line.slice(sep + 3).split(" ");
    const root = unescapeOctal(left[3] ?? "");
    const mountpoint = unescapeOctal(left[4] ?? "");
    if (mountpoint !== CGROUP_MOUNT_ROOT && posix.dirname(mountpoint) !== CGROUP_MOUNT_ROOT) {
      byMountpoint.delete(mountpoint);
      continue;
    }
    if (fstype !== "cgroup" && fstype !== "cgroup2") {
      // Something else (the tmpfs of a v1 host) mounted over it hides what was there.
      byMountpoint.delete(mountpoint);
      continue;
    }
    const controllers =
      fstype === "cgroup2"
        ? []
        : superOpts
            .split(",")
            .filter((o) => o !== "" && !V1_NON_CONTROLLER.has(o) && !o.startsWith("release_agent="));
    byMountpoint.delete(mountpoint); // re-insert to keep the latest mount's order
    byMountpoint.set(mountpoint, { mountpoint, root, controllers, fstype });
  }
  return [...byMountpoint.values()];
}

export function detectLayout(mountinfo: string): CgroupLayout {
  const mounts = parseCgroupMounts(mountinfo);
  const top = mounts.find((m) => m.mountpoint === CGROUP_MOUNT_ROOT && m.fstype === "cgroup2");
  if (top) return { mode: "v2", unified: strip(top) };
  const v1 = mounts.filter((m) => m.fstype === "cgroup" && m.controllers.length > 0).map(strip);
  const unified = mounts.find((m) => m.fstype === "cgroup2" && m.mountpoint !== CGROUP_MOUNT_ROOT);
  if (v1.length === 0) {
    throw new CgroupError(`no cgroup hierarchy is mounted under ${CGROUP_MOUNT_ROOT}`);
  }
  return unified ? { mode: "hybrid", v1, unified: strip(unified) } : { mode: "v1", v1 };
}

const strip = ({ mountpoint, root, controllers }: CgroupMount): CgroupMount => ({
  mountpoint,
  root,
  controllers,
});

/**
 * /proc/self/cgroup as a map from controller to cgroup path. A v1 line "4:cpu,cpuacct:/x" gives "cpu", "cpuacct"
 * and "cpu,cpuacct"; "1:name=systemd:/" gives "name=systemd"; the v2 line "0::/x" gives "".
 */
export function parseSelfCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const list = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    out.set(list, path);
    if (list !== "") for (const c of list.split(",")) out.set(c, path);
  }
  return out;
}

export const readMountinfo = (): string => readFileSync("/proc/self/mountinfo", "utf8");
export const readSelfCgroup = (): string => readFileSync("/proc/self/cgroup", "utf8");
