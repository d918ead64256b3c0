// The `cgroup` mount type. A placeholder tmpfs would break every program that reads its own cgroup, so:
// - cgroup2 host (/sys/fs/cgroup is cgroup2): mount cgroup2 at the destination, as runc does. In a private cgroup
//   namespace it shows the container's own subtree; without one it shows the host tree (read-only if asked).
// - cgroup v1 host: a tmpfs at the destination, then one directory per host hierarchy ("cpu", "memory",
//   "cpu,cpuacct" plus "cpu" and "cpuacct" symlinks, "systemd"): with a private cgroup namespace a fresh mount of
//   that hierarchy, without one a bind of the container's own cgroup directory from the host, read-only when the
//   spec says ro. The hybrid "unified" cgroup2 mount is left out, as runc does.
// The v1 binds need the container's cgroup directories to exist when the init reaches this mount: tsrun creates
// and joins them at the "cgroups" sync, which comes before any mount.

import { posix } from "node:path";
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_REMOUNT } from "./mount-options.js";
import { type Op, op } from "./plan.js";

export interface CgroupHierarchy {
  /** Directory name under the destination: "memory", "cpu,cpuacct", "systemd". */
  name: string;
  /** Host directory of the container's cgroup in this hierarchy (bind source without a cgroup namespace). */
  source: string;
  /** Mount data for a fresh mount inside a cgroup namespace: "memory", "cpu,cpuacct", "name=systemd". */
  data: string;
}

export type CgroupLayout = { version: 2 } | { version: 1; hierarchies: CgroupHierarchy[] };

/** Unescapes mountinfo's octal escapes (\040 for a space). */
const unescapeOctal = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** The host's cgroup layout from /proc/self/mountinfo, with `cgroupPath` joined under each hierarchy. */
export function hostCgroupLayout(mountinfo: string, cgroupPath: string): CgroupLayout {
  const hierarchies: CgroupHierarchy[] = [];
  const rel = posix.normalize(`/${cgroupPath}`);
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const mountpoint = unescapeOctal(left.split(" ")[4] ?? "");
    const [fstype, , superOpts = ""] = right.split(" ");
    if (fstype === "cgroup2" && mountpoint === "/sys/fs/cgroup") return { version: 2 };
    if (fstype !== "cgroup" || posix.dirname(mountpoint) !== "/sys/fs/cgroup") continue;
    const data = superOpts
      .split(",")
      .filter((o) => o !== "rw" && o !== "ro")
      .join(",");
    const source = rel === "/" ? mountpoint : `${mountpoint}${rel.replace(/\/+$/, "")}`;
    hierarchies.push({ name: posix.basename(mountpoint), source, data });
  }
  return { version: 1, hierarchies };
}

export interface CgroupMount {
  source: string;
  /** Host-side absolute target (rootfs + destination). */
  target: string;
  flags: number;
  data: string;
  propagation: number[];
}

export function compileCgroupMount(m: CgroupMount, layout: CgroupLayout, cgroupns: boolean): Op[] {
  const ops: Op[] = [op.mkdirAll(m.target, 0o755)];
  const propagate = (target: string) => m.propagation.map((p) => op.mount("", target, "", p, ""));
  if (layout.version === 2) {
    ops.push(op.mount(m.source || "cgroup", m.target, "cgroup2", m.flags, m.data), ...propagate(m.target));
    return ops;
  }
  const base = MS_NOEXEC | MS_NOSUID | MS_NODEV;
  // runc leaves this tmpfs writable and makes the hierarchies below it read-only.
  ops.push(op.mount("tmpfs", m.target, "tmpfs", base, "mode=755"), ...propagate(m.target));
  for (const h of layout.hierarchies) {
    const target = posix.join(m.target, h.name);
    ops.push(op.mkdirAll(target, 0o755));
    if (cgroupns) {
      ops.push(op.mount("cgroup", target, "cgroup", base | (m.flags & MS_RDONLY), h.data));
      continue;
    }
    const flags = MS_BIND | MS_REC | m.flags;
    ops.push(op.mount(h.source, target, "", flags, ""));
    // MS_BIND ignores the other flags: they take effect on a remount of the new mount.
    if (flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) ops.push(op.mount("", target, "", flags | MS_REMOUNT, ""));
    ops.push(...propagate(target));
  }
  for (const h of layout.hierarchies) {
    if (!h.name.includes(",")) continue;
    for (const part of h.name.split(",")) ops.push(op.symlink(h.name, posix.join(m.target, part)));
  }
  return ops;
}
