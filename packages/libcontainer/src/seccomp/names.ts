// The spec's seccomp vocabulary (runtime-spec config-linux.md "Seccomp") mapped to libseccomp and kernel values.
// One table per kind, so validation, compilation and `tsrun features` agree on what is known.
/** Action values of libseccomp's seccomp.h (the kernel's SECCOMP_RET_*). */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  NOTIFY: 0x7fc00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  errno: (e: number): number => (0x00050000 | (e & 0xffff)) >>> 0,
  trace: (msg: number): number => (0x7ff00000 | (msg & 0xffff)) >>> 0,
} as const;

/** enum scmp_compare. */
export const SCMP_CMP = { NE: 1, LT: 2, LE: 3, EQ: 4, GE: 5, GT: 6, MASKED_EQ: 7 } as const;

const EPERM = 1;

/** Actions by spec name. ERRNO and TRACE take errnoRet (EPERM when absent, as runc); KILL is KILL_THREAD. */
export const ACTIONS: Readonly<Record<string, (errnoRet: number | undefined) => number>> = {
  SCMP_ACT_KILL: () => SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: () => SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: () => SCMP_ACT.KILL_PROCESS,
  SCMP_ACT_TRAP: () => SCMP_ACT.TRAP,
  SCMP_ACT_ERRNO: (e) => SCMP_ACT.errno(e ?? EPERM),
  SCMP_ACT_TRACE: (e) => SCMP_ACT.trace(e ?? EPERM),
  SCMP_ACT_ALLOW: () => SCMP_ACT.ALLOW,
  SCMP_ACT_LOG: () => SCMP_ACT.LOG,
  SCMP_ACT_NOTIFY: () => SCMP_ACT.NOTIFY,
};

export const OPERATORS: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: SCMP_CMP.NE,
  SCMP_CMP_LT: SCMP_CMP.LT,
  SCMP_CMP_LE: SCMP_CMP.LE,
  SCMP_CMP_EQ: SCMP_CMP.EQ,
  SCMP_CMP_GE: SCMP_CMP.GE,
  SCMP_CMP_GT: SCMP_CMP.GT,
  SCMP_CMP_MASKED_EQ: SCMP_CMP.MASKED_EQ,
};

/** seccomp(2)'s SECCOMP_FILTER_FLAG_* bits. */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1n,
  LOG: 2n,
  SPEC_ALLOW: 4n,
  NEW_LISTENER: 8n,
  WAIT_KILLABLE_RECV: 32n,
} as const;

/**
 * Flags a profile may ask for. TSYNC is accepted and dropped, as runc does: the executor is single-threaded, and
 * the kernel refuses TSYNC together with NEW_LISTENER.
 */
export const FLAGS: Readonly<Record<string, bigint>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0n,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

/** Spec architecture names, and libseccomp's name for each (seccomp_arch_resolve_name). */
export const ARCHITECTURES: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: "x86",
  SCMP_ARCH_X86_64: "x86_64",
  SCMP_ARCH_X32: "x32",
  SCMP_ARCH_ARM: "arm",
  SCMP_ARCH_AARCH64: "aarch64",
  SCMP_ARCH_MIPS: "mips",
  SCMP_ARCH_MIPS64: "mips64",
  SCMP_ARCH_MIPS64N32: "mips64n32",
  SCMP_ARCH_MIPSEL: "mipsel",
  SCMP_ARCH_MIPSEL64: "mipsel64",
  SCMP_ARCH_MIPSEL64N32: "mipsel64n32",
  SCMP_ARCH_PPC: "ppc",
  SCMP_ARCH_PPC64: "ppc64",
  SCMP_ARCH_PPC64LE: "ppc64le",
  SCMP_ARCH_S390: "s390",
  SCMP_ARCH_S390X: "s390x",
  SCMP_ARCH_PARISC: "parisc",
  SCMP_ARCH_PARISC64: "parisc64",
  SCMP_ARCH_RISCV64: "riscv64",
};

/** Linux system calls take at most six arguments. */
export const MAX_ARG_INDEX = 5;

/** linux.seccomp of `tsrun features` (runtime-spec features-linux.md). */
export function seccompFeatures() {
  const sorted = (o: object) => Object.keys(o).sort();
  return {
    enabled: true,
    actions: sorted(ACTIONS),
    operators: sorted(OPERATORS),
    archs: sorted(ARCHITECTURES),
    knownFlags: sorted(FLAGS),
    supportedFlags: sorted(FLAGS),
  };
}
