// Mount targets resolved inside the rootfs, symlinks included, the way runc's securejoin does: a symlink in the
// image is followed as if the rootfs were "/", so "/run -> /etc" or "../../../etc" in a link lands on
// <rootfs>/etc, never on the host's /etc. Without this, the executor's mkdir -p, touch and mount(2), which run
// before pivot_root and follow links on the host side, could create or cover files outside the rootfs.
//
// The plan is compiled before anything is mounted, so the resolver models the mounts the plan will have made
// by then: under a fresh filesystem (tmpfs, proc...) nothing exists yet, so there are no links to follow; under
// a bind mount the links are the bind source's.

import { readlinkSync } from "node:fs";
import { posix } from "node:path";
import { ConfigError } from "./errors.js";

/** The target of a symlink, or null when the path is not a symlink (or does not exist). */
export type Readlink = (hostPath: string) => string | null;

export const readlink: Readlink = (p) => {
  try {
    return readlinkSync(p);
  } catch {
    return null;
  }
};

const MAX_LINKS = 255;

interface Mounted {
  /** Resolved container path of the mount point. */
  path: string;
  /** Host path whose content appears there (a bind source), or null for a fresh filesystem. */
  source: string | null;
}

export class RootfsResolver {
  readonly #mounts: Mounted[] = [];

  constructor(
    readonly rootfs: string,
    readonly readlink: Readlink,
  ) {}

  /** Records a mount the plan makes at `path` (already resolved), for later resolutions. */
  mounted(path: string, source: string | null): void {
    this.#mounts.push({ path, source });
  }

  /** The host path that `path` (a container path) will denote when the plan reaches it. */
  host(path: string): string {
    const p = this.resolve(path);
    return p === "/" ? this.rootfs : `${this.rootfs}${p}`;
  }

  /** `path` with every symlink followed inside the rootfs: an absolute, clean container path. */
  resolve(path: string): string {
    let resolved = "/";
    let rest = path;
    let links = 0;
    while (rest !== "") {
      const slash = rest.indexOf("/");
      const part = slash < 0 ? rest : rest.slice(0, slash);
      rest = slash < 0 ? "" : rest.slice(slash + 1);
      if (part === "" || part === ".") continue;
      if (part === "..") {
        resolved = posix.dirname(resolved);
        continue;
      }
      const next = posix.join(resolved, part);
      const link = this.#readlink(next);
      if (link === null) {
        resolved = next;
        continue;
      }
      if (++links > MAX_LINKS)
        throw new ConfigError("", `${path}: too many levels of symbolic links in the rootfs`);
      if (link.startsWith("/")) resolved = "/";
      rest = rest === "" ? link : `${link}/${rest}`;
    }
    return resolved;
  }

  #readlink(path: string): string | null {
    // The innermost mount covering `path` decides where its content comes from.
    let best: Mounted | undefined;
    for (const m of this.#mounts) {
      const under = m.path === "/" || path === m.path || path.startsWith(`${m.path}/`);
      if (under && (!best || m.path.length >= best.path.length)) best = m;
    }
    if (!best) return this.readlink(`${this.rootfs}${path}`);
    if (best.source === null) return null;
    // A mount point is never a link: a bind follows links in its target when it is made.
    if (path === best.path) return null;
    return this.readlink(`${best.source}${path.slice(best.path === "/" ? 0 : best.path.length)}`);
  }
}
