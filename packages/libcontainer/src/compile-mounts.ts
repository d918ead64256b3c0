// Spec mounts -> ops, in spec order, each on its host-side target (the rootfs path joined with the destination).
// The plan runs before pivot_root, so every target is an absolute host path under the rootfs.

import { isAbsolute, posix, resolve } from "node:path";
import { type CgroupLayout, compileCgroupMount } from "./compile-cgroup.js";
import { ConfigError } from "./errors.js";
import type { PathKind } from "./host-facts.js";
import { isBindMount, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, parseMountOptions } from "./mount-options.js";
import { type Op, op } from "./plan.js";
import type { RootfsResolver } from "./secure-join.js";
import type { Mount } from "./spec.js";

/**
 * The container path made canonical, lexically: absolute, no "." or "..", no trailing slash. ".." cannot climb
 * above "/", so "/../../etc" is "/etc". Mount targets go through RootfsResolver, which also follows symlinks.
 */
export function containerPath(path: string): string {
  const p = posix.normalize(`/${path}`);
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

export interface MountContext {
  /** Resolves targets inside the rootfs; told about each mount made. */
  resolver: RootfsResolver;
  bundle: string;
  pathKind: (path: string) => PathKind;
  cgroup: CgroupLayout;
  /** A private cgroup namespace (new): v1 hierarchies are mounted afresh instead of bound. */
  cgroupns: boolean;
  /** linux.mountLabel: the SELinux context of the filesystems runc labels (formatMountLabel). */
  mountLabel?: string;
}

/**
 * runc's label.FormatMountLabel: the mount label as a context="..." option appended to the mount data. Like runc
 * 1.1 (go-selinux 1.10) it is added whether or not the host has SELinux: a kernel without it refuses the option.
 */
export function formatMountLabel(data: string, label: string | undefined): string {
  if (!label) return data;
  return data ? `${data},context="${label}"` : `context="${label}"`;
}

/** runc 1.1 labels every new filesystem but these: proc and sysfs (never), mqueue (labelled as a file after). */
const UNLABELLED = new Set(["proc", "sysfs", "mqueue", "cgroup"]);

export interface CompiledMounts {
  ops: Op[];
  /**
   * Mounts made writable for now and made read-only once the rootfs is complete (container paths and flags):
   * /dev and tmpfs mounts get their device nodes and files first, as in runc.
   */
  remountReadonly: { path: string; flags: number }[];
}

export function compileMounts(mounts: readonly Mount[], ctx: MountContext): CompiledMounts {
  const ops: Op[] = [];
  const remountReadonly: CompiledMounts["remountReadonly"] = [];
  mounts.forEach((m, i) => {
    const dest = ctx.resolver.resolve(m.destination);
    const target = ctx.resolver.host(dest);
    const { flags, propagation, data, copyUp } = parseMountOptions(m.options);
    const propagate = () => propagation.map((p) => op.mount("", target, "", p, ""));

    if (isBindMount(m)) {
      // runc resolves a relative bind source against its working directory, which is the bundle.
      const source = isAbsolute(m.source ?? "") ? (m.source as string) : resolve(ctx.bundle, m.source ?? "");
      const kind = ctx.pathKind(source);
      if (kind === "missing")
        throw new ConfigError(`mounts[${i}].source`, `${source}: no such file or directory`);
      if (kind === "dir") ops.push(op.mkdirAll(target, 0o755));
      else ops.push(op.mkdirAll(posix.dirname(target), 0o755), op.touch(target, 0o755));
      ops.push(op.mount(source, target, "", flags, data));
      // A bind mount keeps the source's flags; ro, nosuid... only apply through a remount of the new mount.
      if (flags & ~(MS_BIND | MS_REC | MS_REMOUNT))
        ops.push(op.mount("", target, "", flags | MS_REMOUNT, ""));
      ops.push(...propagate());
      ctx.resolver.mounted(dest, kind === "dir" ? source : null);
      return;
    }

    const type = m.type ?? "";
    if (type === "proc" || type === "sysfs") {
      // As runc: these go on an ordinary directory of the image, never through a link at the destination (the
      // executor would keep a link inside the rootfs anyway; this refuses what runc refuses).
      const lexical = `${ctx.resolver.rootfs}${containerPath(m.destination)}`;
      if (ctx.resolver.readlink(lexical) !== null || ctx.pathKind(lexical) === "file")
        throw new ConfigError(`mounts[${i}]`, `filesystem "${type}" must be mounted on ordinary directory`);
    }
    // A copied-up tmpfs holds what the directory held, links included: later paths resolve as before it.
    const copied = copyUp && type === "tmpfs";
    if (!copied) ctx.resolver.mounted(dest, null);
    if (type === "cgroup") {
      ops.push(
        ...compileCgroupMount(
          { source: m.source ?? "", target, flags, data, propagation },
          ctx.cgroup,
          ctx.cgroupns,
        ),
      );
      return;
    }

    let mountFlags = flags;
    if ((dest === "/dev" || type === "tmpfs") && flags & MS_RDONLY) {
      mountFlags &= ~MS_RDONLY;
      remountReadonly.push({ path: dest, flags });
    }
    const labelled = UNLABELLED.has(type) ? data : formatMountLabel(data, ctx.mountLabel);
    // tmpcopyup (validation allows it on tmpfs only): mounted writable like any tmpfs, filled by the executor
    // from the directory it covers, made read-only at the end if asked.
    const mount = copied ? op.mountCopyup : op.mount;
    ops.push(
      op.mkdirAll(target, 0o755),
      mount(m.source ?? type, target, type, mountFlags, labelled),
      ...propagate(),
    );
  });
  return { ops, remountReadonly };
}

/** /dev is provided by the spec when it is a bind mount; then runc creates no device nodes or links in it. */
export const needsDevSetup = (mounts: readonly Mount[]): boolean =>
  !mounts.some((m) => isBindMount(m) && containerPath(m.destination) === "/dev");
