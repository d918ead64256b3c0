// Capability names and numbers from linux/capability.h, and the masks the executor's OP_CAP_BOUNDING and OP_CAPS
// take (bit N = capability N).

import type { Capabilities } from "./spec.js";

export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

export const isCapability = (name: string): boolean => Object.hasOwn(CAPABILITIES, name);

/** Mask of the named capabilities; names must have been validated. */
export function capMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const n = CAPABILITIES[name];
    if (n === undefined) throw new Error(`unknown capability ${name}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

export interface CapMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/**
 * The five masks for a process. `lastCap` (from /proc/sys/kernel/cap_last_cap) drops capabilities this kernel
 * lacks, as runc does with a warning. Ambient is cut to what is both permitted and inheritable: the kernel refuses
 * to raise anything else, and runc 1.1 silently skips those (its default spec lists ambient caps with no
 * inheritable ones, and the container ends up with none).
 */
export function capMasks(caps: Capabilities | undefined, lastCap = 40): CapMasks {
  const known = (1n << BigInt(lastCap + 1)) - 1n;
  const permitted = capMask(caps?.permitted) & known;
  const inheritable = capMask(caps?.inheritable) & known;
  return {
    bounding: capMask(caps?.bounding) & known,
    effective: capMask(caps?.effective) & known,
    permitted,
    inheritable,
    ambient: capMask(caps?.ambient) & known & permitted & inheritable,
  };
}
