// compileExecPlan: the plan for `tsrun exec`, runc's setns init. No rootfs work: stage 0 joins the namespaces of
// the running container, clones (so the new process is born in its pid namespace), and the child sets up the
// process (terminal, limits, identity) and execs. The order follows setns_init_linux.go.

import { statSync } from "node:fs";
import { apparmorOps, selinuxOps } from "./compile-lsm.js";
import { execOp, identityOps, lookupOp, rlimitOps } from "./compile-process.js";
import { passwdHome, withHome } from "./home-env.js";
import { NAMESPACE_FLAGS } from "./namespaces.js";
import { type Op, op, type Plan } from "./plan.js";
import { seccompOp } from "./seccomp/seccomp-op.js";
import type { NamespaceType, Process, Seccomp } from "./spec.js";

/** OP_SYNC labels of an exec plan. */
export const EXEC_SYNC_LABELS = {
  /** The child exists and has done nothing yet: tsrun writes its pid into the container's cgroups. */
  cgroups: "exec-cgroups",
  /** The pty master has been sent: tsrun clears ONLCR on it before the program can write anything. */
  console: "exec-console",
} as const;

export interface JoinedNamespace {
  type: NamespaceType;
  /** /proc/<init pid>/ns/<name>. */
  path: string;
}

/**
 * Joining order. The user namespace first: the joins after it are checked against the capabilities it grants
 * (and /proc/<pid>/ns of the init is ours to open once we are in its user namespace). Mount last: every path
 * is a /proc path of the host, which the container's mount namespace would no longer show.
 */
export const EXEC_JOIN_ORDER: readonly NamespaceType[] = [
  "user",
  "ipc",
  "uts",
  "network",
  "pid",
  "cgroup",
  "time",
  "mount",
];

/** The file name under /proc/<pid>/ns for each namespace type. */
export const PROC_NS_NAME: Readonly<Record<NamespaceType, string>> = {
  user: "user",
  ipc: "ipc",
  uts: "uts",
  network: "net",
  pid: "pid",
  cgroup: "cgroup",
  time: "time",
  mount: "mnt",
};

/** Inode of a namespace file, or undefined when the kernel has no such namespace type. */
export type NsInode = (path: string) => number | bigint | undefined;

const statInode: NsInode = (path) => {
  try {
    return statSync(path, { bigint: true }).ino;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
};

/**
 * The namespaces of the process `pid` that differ from ours, in joining order. One the container shares with
 * the host (same inode as /proc/self/ns) is left alone: joining it would change nothing, and for a user
 * namespace setns(2) refuses to join the caller's own.
 */
export function namespacesToJoin(pid: number, inode: NsInode = statInode): JoinedNamespace[] {
  const out: JoinedNamespace[] = [];
  for (const type of EXEC_JOIN_ORDER) {
    const name = PROC_NS_NAME[type];
    const theirs = inode(`/proc/${pid}/ns/${name}`);
    if (theirs === undefined) continue;
    const ours = inode(`/proc/self/ns/${name}`);
    if (ours !== undefined && BigInt(ours) === BigInt(theirs)) continue;
    out.push({ type, path: `/proc/${pid}/ns/${name}` });
  }
  return out;
}

export interface ExecCompileContext {
  /** What to join, from namespacesToJoin; sorted here into EXEC_JOIN_ORDER whatever the given order. */
  namespaces: readonly JoinedNamespace[];
  /** A pty is opened from the container's devpts and its master sent over _TSRUN_CONSOLE. */
  consoleSocket: boolean;
  /** tsrun itself receives the master (foreground -t) and wants a sync once it has been sent. */
  consoleSync?: boolean;
  /** --preserve-fds: fds 3 .. 3+N-1 reach the process. */
  preserveFds: number;
  /** The container's session keyring to join ("_ses.<id>"); absent when it was created with --no-new-keyring. */
  sessionKeyring?: string;
  /** The container's umask (its config's process.user.umask); unset leaves tsrun's, as runc. */
  umask?: number;
  /** The container's oom_score_adj (its config's process.oomScoreAdj), which runc gives every exec too. */
  oomScoreAdj?: number;
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap: number;
  /** The container's linux.seccomp: every process in the container gets the same filter, as with runc. */
  seccomp?: Seccomp | null;
  /** The host has SELinux (a process label can be set). */
  selinux?: boolean;
  /** The host has /proc/self/attr/apparmor (else the older /proc/self/attr/exec). */
  apparmorAttrDir?: boolean;
  /** The container's /etc/passwd as its processes see it, read only when the env has no HOME. */
  passwd?: () => string | undefined;
}

export function compileExecPlan(process: Process, ctx: ExecCompileContext): Plan {
  const plan: Op[] = [];
  // --- stage 0: join, then clone; the pid namespace only applies to children of the joining process ---
  const joins = [...ctx.namespaces].sort(
    (a, b) => EXEC_JOIN_ORDER.indexOf(a.type) - EXEC_JOIN_ORDER.indexOf(b.type),
  );
  for (const ns of joins) plan.push(op.setns(ns.path, NAMESPACE_FLAGS[ns.type]));
  if (ctx.oomScoreAdj !== undefined) plan.push(op.oomScoreAdj(ctx.oomScoreAdj));
  plan.push(op.clone(0), op.initBegin());

  // --- the new process ---
  // Its own session (runc's stage 2 always calls setsid), which OP_CONSOLE's TIOCSCTTY also needs. Then it
  // waits for tsrun to put it in the container's cgroups, before it can fork or use any resource.
  plan.push(op.setsid(), op.sync(EXEC_SYNC_LABELS.cgroups));
  // The container's keyring, not tsrun's caller's (the init made it searchable, so this joins the same one).
  if (ctx.sessionKeyring) plan.push(op.sessionKeyring(ctx.sessionKeyring, false));
  if (ctx.consoleSocket) {
    // The pty comes from the container's devpts; /dev/console belongs to the init and is left alone.
    const size = process.consoleSize;
    plan.push(op.console("/dev/pts/ptmx", size?.height ?? 0, size?.width ?? 0, false));
    if (ctx.consoleSync) plan.push(op.sync(EXEC_SYNC_LABELS.console));
  }
  plan.push(...rlimitOps(process));
  if (process.noNewPrivileges) plan.push(op.noNewPrivs());
  if (ctx.umask !== undefined) plan.push(op.umask(ctx.umask));
  // The LSM labels the program gets at execve, written while still root (as compile.ts does for the init).
  plan.push(...selinuxOps(process, { selinux: !!ctx.selinux }));
  plan.push(...apparmorOps(process, { apparmorAttrDir: !!ctx.apparmorAttrDir }));
  // Seccomp in runc's order: without no_new_privs loading a filter needs CAP_SYS_ADMIN, so before the
  // capabilities go; with it, as late as possible, while the channel is still open for a notify listener.
  const seccomp = seccompOp(ctx.seccomp);
  if (seccomp && !process.noNewPrivileges) plan.push(seccomp);
  // Inherited fds never reach the container (CVE-2024-21626); the channel closes at exec.
  plan.push(op.closeFrom(3 + ctx.preserveFds));
  // finalizeNamespace, then the lookup as the user in the container's root, as runc's setns init.
  // HOME as runc's setupUser gives it when the env has none: the user's home in the container's passwd, or "/".
  const env = withHome(process.env ?? [], () => passwdHome(ctx.passwd?.(), process.user.uid) ?? "/");
  const proc = { ...process, env };
  plan.push(...identityOps(proc, ctx.lastCap), lookupOp(proc));
  plan.push(op.stdioBlocking());
  if (seccomp && process.noNewPrivileges) plan.push(seccomp);
  plan.push(execOp(proc));
  return plan;
}
