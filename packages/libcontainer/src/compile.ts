// compilePlan: a validated spec -> the flat op list the native executor runs (TypeScript decides, C executes).
// The order follows runc's standard init (nsexec stages, prepareRootfs, setupConsole, finalizeRootfs,
// standard_init_linux.go); each non-obvious placement says why.

import { resolve } from "node:path";
import { compileDevices } from "./compile-devices.js";
import { apparmorOps, selinuxOps } from "./compile-lsm.js";
import { compileMounts, containerPath, formatMountLabel, needsDevSetup } from "./compile-mounts.js";
import { execOp, hookOps, identityOps, idMapText, lookupOp, rlimitOps } from "./compile-process.js";
import { passwdHome, withHome } from "./home-env.js";
import { type HostFacts, hostFacts, readText } from "./host-facts.js";
import {
  isBindMount,
  MS_BIND,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SLAVE,
  PROPAGATION,
} from "./mount-options.js";
import {
  CLONE_NEWCGROUP,
  cloneFlags,
  hasNamespace,
  hasNewNamespace,
  joinOrder,
  NAMESPACE_FLAGS,
} from "./namespaces.js";
import { type Op, op, type Plan } from "./plan.js";
import { seccompOp } from "./seccomp/seccomp-op.js";
import { RootfsResolver } from "./secure-join.js";
import type { Spec } from "./spec.js";

/** OP_SYNC labels: where the init stops for tsrun, and what tsrun does there. */
export interface SyncLabels {
  /** Right after the clone, before any mount: put the init in its cgroups and apply linux.resources. */
  cgroups: string;
  /** After all mounts and devices, before pivot_root (only when there are prestart/createRuntime hooks). */
  createRuntime: string;
  /** Just before the createContainer hooks the init runs; answer with the state JSON for their stdin. */
  createContainer: string;
  /** Everything set up but identity and exec: write state.json (status created); answer with the state JSON,
   *  which startContainer hooks get on stdin. */
  ready: string;
}

export const SYNC_LABELS: Readonly<SyncLabels> = {
  cgroups: "cgroups",
  createRuntime: "create-runtime",
  createContainer: "create-container",
  ready: "ready",
};

export interface CompileContext {
  bundle: string;
  /** Absolute host path of the root filesystem (resolveRootfs). */
  rootfs: string;
  /** --no-pivot: move the rootfs over / and chroot instead of pivot_root. */
  noPivot: boolean;
  /** The init opens a pty and sends the master over _TSRUN_CONSOLE. */
  consoleSocket: boolean;
  /** create/start split: the init blocks on exec.fifo before exec. */
  fifo: boolean;
  /** --preserve-fds: fds 3 .. 3+N-1 reach the container. */
  preserveFds: number;
  /** The name of the container's own session keyring ("_ses.<id>"); absent with --no-new-keyring. */
  sessionKeyring?: string;
  labels?: Partial<SyncLabels>;
  /** Host facts; read with probeHost(linux.cgroupsPath) when absent. */
  host?: Partial<HostFacts>;
}

const SIGKILL = 9;

export function compilePlan(spec: Spec, ctx: CompileContext): Plan {
  const process = spec.process;
  if (!process) throw new Error("compile: spec has no process");
  const labels = { ...SYNC_LABELS, ...ctx.labels };
  const host = hostFacts(ctx.host, spec.linux?.cgroupsPath ?? "/");
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const hooks = spec.hooks ?? {};
  const rootfs = ctx.rootfs.length > 1 ? ctx.rootfs.replace(/\/+$/, "") : ctx.rootfs;
  const newUserns = hasNewNamespace(namespaces, "user");
  const plan: Op[] = [];

  // --- stage 0, in tsrun's namespaces ---
  // Joining happens before the clone so that the init is born inside them (a pid namespace only applies to
  // children of the process that joined it).
  for (const ns of joinOrder(namespaces)) plan.push(op.setns(ns.path as string, NAMESPACE_FLAGS[ns.type]));
  if (process.oomScoreAdj !== undefined) plan.push(op.oomScoreAdj(process.oomScoreAdj));
  // All new namespaces but the cgroup one, which the init makes once it is in its cgroups (see the cgroups sync).
  plan.push(op.clone(cloneFlags(namespaces) & ~CLONE_NEWCGROUP));
  if (newUserns) {
    // Written from outside: the init has no privilege over its own namespace's maps. runc writes "deny" only
    // for a rootless single mapping of the caller's gid, where the kernel requires it before gid_map.
    const gidMaps = linux.gidMappings ?? [];
    const single = gidMaps.length === 1 && gidMaps[0]?.containerID === 0 && gidMaps[0].size === 1;
    if (host.rootlessEuid && single && gidMaps[0]?.hostID === host.egid) plan.push(op.setgroups("deny"));
    plan.push(op.uidmap(idMapText(linux.uidMappings ?? [])), op.gidmap(idMapText(gidMaps)));
  }
  plan.push(op.initBegin());

  // --- the init ---
  // Die with tsrun while the container is being created, so a killed `create` leaves no half-made init;
  // cleared once tsrun has recorded the container ("ready").
  plan.push(op.pdeathsig(SIGKILL), op.setsid());
  if (hasNamespace(namespaces, "user")) plan.push(op.setidRoot());
  // As runc, before any other work of the init: nothing in the container runs with the caller's keyring.
  if (ctx.sessionKeyring) plan.push(op.sessionKeyring(ctx.sessionKeyring, true));
  if (hasNewNamespace(namespaces, "network")) plan.push(op.loopbackUp());
  plan.push(op.sync(labels.cgroups));
  // The cgroup namespace's root is the creator's cgroup at the time: made now, the container sees its own cgroup
  // as "/", as runc's init unsharing it after the parent applied the cgroups.
  if (hasNewNamespace(namespaces, "cgroup")) plan.push(op.unshare(CLONE_NEWCGROUP));

  // Rootfs (runc's prepareRoot): stop mount events from flowing back to the host, then make the rootfs a mount
  // point of its own, which pivot_root requires.
  const rootProp = linux.rootfsPropagation ? (PROPAGATION[linux.rootfsPropagation] ?? 0) : MS_SLAVE | MS_REC;
  plan.push(op.mount("", "/", "", rootProp, ""), op.mount(rootfs, rootfs, "", MS_BIND | MS_REC, ""));
  // From here every target is resolved inside the rootfs by the executor when it is used, not only here at
  // compile time: the rootfs may change in between (CVE-2019-16884, CVE-2021-30465). After the bind, so the
  // root fd is the new mount, not the directory under it; pivot_root makes it "/".
  plan.push(op.root(rootfs));

  const resolver = new RootfsResolver(rootfs, host.readlink);
  const mounts = compileMounts(spec.mounts ?? [], {
    resolver,
    bundle: ctx.bundle,
    pathKind: host.pathKind,
    cgroup: host.cgroup,
    cgroupns: hasNewNamespace(namespaces, "cgroup"),
    mountLabel: linux.mountLabel,
  });
  plan.push(...mounts.ops);
  if (needsDevSetup(spec.mounts ?? [])) {
    plan.push(
      ...compileDevices(linux.devices, resolver, {
        userns: hasNamespace(namespaces, "user"),
        kcore: host.kcore,
      }),
    );
  }

  // Hooks see the finished mounts from the old root, before pivot_root hides it (runtime-spec and runc).
  if ((hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) > 0)
    plan.push(op.sync(labels.createRuntime));
  if (hooks.createContainer?.length) {
    // createContainer hooks run in the container's namespaces with host paths, from the rootfs as cwd.
    plan.push(
      op.sync(labels.createContainer),
      op.chdir(rootfs),
      ...hookOps("createContainer", hooks.createContainer),
    );
  }

  plan.push(ctx.noPivot ? op.moveRoot(rootfs) : op.pivotRoot(rootfs), op.chdir("/"));

  // The console comes after pivot_root (its ptmx and /dev/console are the container's own) and before the
  // rootfs is made read-only, as runc's setupConsole.
  if (ctx.consoleSocket) {
    const size = process.consoleSize;
    plan.push(op.console("/dev/pts/ptmx", size?.height ?? 0, size?.width ?? 0, true));
  }

  // A missing cwd is created inside the new root, as root and before anything is read-only (runc's
  // finalizeRootfs); without it `chdir` fails for images whose WORKDIR does not exist yet.
  plan.push(op.mkdirAll(containerPath(process.cwd), 0o755));
  // finalizeRootfs: read-only tmpfs and /dev now that their content exists, then the root, then the umask.
  for (const r of mounts.remountReadonly)
    plan.push(op.mount("", r.path, "", r.flags | MS_REMOUNT | MS_RDONLY, ""));
  if (spec.root?.readonly) plan.push(op.mount("", "/", "", MS_BIND | MS_REMOUNT | MS_RDONLY, ""));
  plan.push(op.umask(process.user.umask ?? 0o022));

  // An empty name means "leave it", as in runc; validation made sure there is a uts namespace of our own.
  if (spec.hostname) plan.push(op.sethostname(spec.hostname));
  if (spec.domainname) plan.push(op.setdomainname(spec.domainname));
  // runc's apparmor.ApplyProfile, at runc's place.
  plan.push(...apparmorOps(process, host));
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    plan.push(op.writeFile(`/proc/sys/${key.replaceAll(".", "/")}`, value));
  }
  // runc's order: read-only paths, then masked ones. Both run after pivot_root, so their paths (and any
  // symlinks in them) resolve inside the container.
  for (const p of linux.readonlyPaths ?? []) plan.push(op.readonlyPath(p));
  for (const p of linux.maskedPaths ?? []) plan.push(op.maskPath(p, formatMountLabel("", linux.mountLabel)));
  // runc sets rlimits from the parent at procReady; setting them here, still as root, is the same moment.
  plan.push(...rlimitOps(process));
  if (process.noNewPrivileges) plan.push(op.noNewPrivs());

  plan.push(op.sync(labels.ready), op.pdeathsig(0));
  // runc's selinux.SetExecLabel, right after procReady.
  plan.push(...selinuxOps(process, host));
  // runc's order for seccomp: without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it goes in before
  // the capabilities are dropped; with it, as late as possible (fewer syscalls for the profile to allow), but
  // while the channel is still open, since a notify listener has to reach tsrun.
  const seccomp = seccompOp(linux.seccomp);
  if (seccomp && !process.noNewPrivileges) plan.push(seccomp);
  // Inherited fds never reach the container (CVE-2024-21626): everything above the preserved ones is
  // close-on-exec from here; the channel and exec.fifo fds stay usable until exec.
  plan.push(op.closeFrom(3 + ctx.preserveFds));
  // HOME as runc's setupUser gives it, from the image's passwd (or a file bound over it), read here on the host.
  const passwdMount = (spec.mounts ?? [])
    .filter((m) => isBindMount(m) && containerPath(m.destination) === "/etc/passwd")
    .at(-1);
  const passwdPath = passwdMount
    ? resolve(ctx.bundle, passwdMount.source ?? "")
    : resolver.host("/etc/passwd");
  const env = withHome(
    process.env ?? [],
    () => passwdHome((host.readText ?? readText)(passwdPath), process.user.uid) ?? "/",
  );
  const proc = { ...process, env };
  plan.push(...identityOps(process, host.lastCap), lookupOp(proc));
  // A relay may have set O_NONBLOCK on the pipes that are our stdio; the container expects blocking fds.
  plan.push(op.stdioBlocking());
  if (seccomp && process.noNewPrivileges) plan.push(seccomp);
  if (ctx.fifo) plan.push(op.fifoWait());
  plan.push(...hookOps("startContainer", hooks.startContainer));
  plan.push(execOp(proc));
  return plan;
}
