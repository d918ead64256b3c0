// Device nodes and /dev links, as runc creates them when /dev is not a bind mount: the six default devices
// (unless the spec lists the same path), linux.devices, /dev/ptmx -> pts/ptmx, /dev/fd and stdio links, and
// /dev/core when the host has /proc/kcore.

import { posix } from "node:path";
import { MS_BIND } from "./mount-options.js";
import { type Op, op } from "./plan.js";
import type { RootfsResolver } from "./secure-join.js";
import type { LinuxDevice } from "./spec.js";

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

const dflt = (path: string, major: number, minor: number): LinuxDevice => ({
  path,
  type: "c",
  major,
  minor,
  fileMode: 0o666,
  uid: 0,
  gid: 0,
});

/** runc's default devices, in its order. */
export const DEFAULT_DEVICES: readonly LinuxDevice[] = [
  dflt("/dev/null", 1, 3),
  dflt("/dev/random", 1, 8),
  dflt("/dev/full", 1, 7),
  dflt("/dev/tty", 5, 0),
  dflt("/dev/zero", 1, 5),
  dflt("/dev/urandom", 1, 9),
];

/** glibc's makedev: 12 bits of major and 20 of minor split across the 64-bit dev_t. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** Default devices the spec does not redefine, then the spec's own: runc's merge. */
export function deviceList(specDevices: readonly LinuxDevice[] | undefined): LinuxDevice[] {
  const spec = specDevices ?? [];
  return [...DEFAULT_DEVICES.filter((d) => !spec.some((s) => s.path === d.path)), ...spec];
}

export function compileDevices(
  specDevices: readonly LinuxDevice[] | undefined,
  resolver: RootfsResolver,
  opts: { userns: boolean; kcore: boolean },
): Op[] {
  // Device modes are exact (0666 means 0666), as runc's umask(0) around its mknods.
  const ops: Op[] = [op.umask(0)];
  const dirs = new Set<string>();
  for (const d of deviceList(specDevices)) {
    const target = resolver.host(d.path);
    const dir = posix.dirname(target);
    if (!dirs.has(dir)) ops.push(op.mkdirAll(dir, 0o755));
    dirs.add(dir);
    if (opts.userns) {
      // mknod is not allowed in a user namespace: bind the host's node instead, as runc does.
      ops.push(op.touch(target, 0o666), op.mount(d.path, target, "", MS_BIND, ""));
      continue;
    }
    const type = d.type === "b" ? S_IFBLK : d.type === "p" ? S_IFIFO : S_IFCHR;
    const mode = type | ((d.fileMode ?? 0o666) & ~S_IFMT);
    const dev = d.type === "p" ? 0n : makedev(d.major ?? 0, d.minor ?? 0);
    ops.push(op.mknod(target, mode, dev, d.uid ?? 0, d.gid ?? 0));
  }
  // The devpts instance mounted at /dev/pts has its own ptmx; /dev/ptmx must lead there, not to the host's.
  ops.push(op.symlink("pts/ptmx", resolver.host("/dev/ptmx")));
  const links: [string, string][] = [
    ["/proc/self/fd", "/dev/fd"],
    ["/proc/self/fd/0", "/dev/stdin"],
    ["/proc/self/fd/1", "/dev/stdout"],
    ["/proc/self/fd/2", "/dev/stderr"],
  ];
  if (opts.kcore) links.push(["/proc/kcore", "/dev/core"]);
  for (const [target, link] of links) ops.push(op.symlink(target, resolver.host(link)));
  return ops;
}
