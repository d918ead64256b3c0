// What the compiler needs to know about the host, gathered in one place so that compilePlan stays a pure function
// of (spec, context): tests pass these facts in, the lifecycle lets probeHost() read them.

import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { type CgroupLayout, hostCgroupLayout } from "./compile-cgroup.js";
import { type Readlink, readlink } from "./secure-join.js";

export type PathKind = "dir" | "file" | "missing";

export interface HostFacts {
  /** What a bind-mount source is: the target is made a directory for a directory, a file otherwise. */
  pathKind(path: string): PathKind;
  /** Symlink targets in the rootfs and bind sources, to resolve mount targets inside the rootfs. */
  readlink: Readlink;
  /** runc links /dev/core to /proc/kcore only when the kernel has it (CONFIG_PROC_KCORE). */
  kcore: boolean;
  /** How to give the container a /sys/fs/cgroup for a `cgroup` mount. */
  cgroup: CgroupLayout;
  /** /proc/sys/kernel/cap_last_cap: capabilities above it do not exist on this kernel and are dropped. */
  lastCap: number;
  /** tsrun runs without root in the initial user namespace (gates setgroups "deny", as runc's RootlessEUID). */
  rootlessEuid: boolean;
  egid: number;
  /** SELinux is enabled (selinuxfs is mounted): a process label can be set (runc refuses one otherwise). */
  selinux: boolean;
  /** The kernel has the AppArmor-specific /proc/<pid>/attr/apparmor/, which runc prefers to /proc/<pid>/attr. */
  apparmorAttrDir: boolean;
  /** A small file's text, or undefined when it cannot be read (the image's /etc/passwd, for HOME). */
  readText?: (path: string) => string | undefined;
}

/** A regular file of at most 1 MiB: an image's fifo or device there must not hang or flood tsrun. */
export function readText(path: string): string | undefined {
  let fd = -1;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > 1 << 20) return undefined;
    return readFileSync(fd, "utf8");
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export function pathKind(path: string): PathKind {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}

/**
 * Reads the host facts. `cgroupPath` is the container's cgroup path inside each v1 hierarchy (or the v2 tree);
 * the cgroup manager decides it, so callers that know better pass their own `cgroup` layout to compilePlan.
 */
export function probeHost(cgroupPath = "/"): HostFacts {
  let lastCap = 40;
  try {
    lastCap = Number.parseInt(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8"), 10);
  } catch {}
  return {
    pathKind,
    readlink,
    kcore: existsSync("/proc/kcore"),
    cgroup: hostCgroupLayout(readFileSync("/proc/self/mountinfo", "utf8"), cgroupPath),
    lastCap,
    rootlessEuid: (process.geteuid?.() ?? 0) !== 0,
    egid: process.getegid?.() ?? 0,
    selinux: existsSync("/sys/fs/selinux/enforce"),
    apparmorAttrDir: existsSync("/proc/self/attr/apparmor/exec"),
    readText,
  };
}

/** `partial` completed from the real host; the host is only read for what is missing. */
export function hostFacts(partial: Partial<HostFacts> | undefined, cgroupPath: string): HostFacts {
  const p = partial ?? {};
  const probed =
    p.cgroup === undefined || p.kcore === undefined || p.lastCap === undefined
      ? probeHost(cgroupPath)
      : undefined;
  return {
    pathKind: p.pathKind ?? pathKind,
    readlink: p.readlink ?? readlink,
    kcore: p.kcore ?? probed?.kcore ?? false,
    cgroup: p.cgroup ?? probed?.cgroup ?? { version: 2 },
    lastCap: p.lastCap ?? probed?.lastCap ?? 40,
    rootlessEuid: p.rootlessEuid ?? (process.geteuid?.() ?? 0) !== 0,
    egid: p.egid ?? process.getegid?.() ?? 0,
    selinux: p.selinux ?? existsSync("/sys/fs/selinux/enforce"),
    apparmorAttrDir: p.apparmorAttrDir ?? existsSync("/proc/self/attr/apparmor/exec"),
    readText: p.readText ?? readText,
  };
}
