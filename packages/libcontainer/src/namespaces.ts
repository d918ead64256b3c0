// Namespace types, their CLONE_NEW* flags (linux/sched.h), and the order in which existing ones are joined.

import type { Namespace, NamespaceType } from "./spec.js";

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_NEWTIME = 0x00000080;

export const NAMESPACE_FLAGS: Readonly<Record<NamespaceType, number>> = {
  user: CLONE_NEWUSER,
  ipc: CLONE_NEWIPC,
  uts: CLONE_NEWUTS,
  network: CLONE_NEWNET,
  pid: CLONE_NEWPID,
  mount: CLONE_NEWNS,
  cgroup: CLONE_NEWCGROUP,
  time: CLONE_NEWTIME,
};

export const isNamespaceType = (t: string): t is NamespaceType => Object.hasOwn(NAMESPACE_FLAGS, t);

/**
 * Joining order, as runc's: the user namespace first, so that the joins after it are checked against the
 * capabilities it grants; mount late, since a path under /proc of another mount namespace must still resolve.
 */
const JOIN_ORDER: readonly NamespaceType[] = [
  "user",
  "ipc",
  "uts",
  "network",
  "pid",
  "mount",
  "cgroup",
  "time",
];

export function joinOrder(namespaces: readonly Namespace[]): Namespace[] {
  return namespaces
    .filter((n) => n.path)
    .sort((a, b) => JOIN_ORDER.indexOf(a.type) - JOIN_ORDER.indexOf(b.type));
}

/** CLONE_NEW* flags for the namespaces to create (those without a path). */
export function cloneFlags(namespaces: readonly Namespace[]): number {
  let flags = 0;
  for (const n of namespaces) if (!n.path) flags |= NAMESPACE_FLAGS[n.type];
  return flags;
}

export const hasNamespace = (namespaces: readonly Namespace[] | undefined, type: NamespaceType): boolean =>
  (namespaces ?? []).some((n) => n.type === type);

export const hasNewNamespace = (namespaces: readonly Namespace[] | undefined, type: NamespaceType): boolean =>
  (namespaces ?? []).some((n) => n.type === type && !n.path);
