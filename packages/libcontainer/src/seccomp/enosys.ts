// The -ENOSYS stub runc prepends to every restrictive filter (libcontainer/seccomp/patchbpf): a syscall whose
// number is above the largest one the profile names, on its architecture, is one the profile cannot know about
// (newer than the profile), so it gets ENOSYS, which libc takes as "fall back to the old call" (clone3 -> clone),
// rather than the default action, which would be a hard EPERM or a kill. Written from the description of the
// behaviour; the program layout is ours.
import { archToken, nativeArchToken, syscallNumber } from "./libseccomp.js";
import { ARCHITECTURES, SCMP_ACT } from "./names.js";

/** struct sock_filter. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Classic BPF opcodes (linux/bpf_common.h).
const LD_W_ABS = 0x20;
const JA = 0x05;
const JEQ = 0x15;
const JGT = 0x25;
const JSET = 0x45;
const RET_K = 0x06;

const AUDIT_ARCH_X86_64 = 0xc000003e;
/** libseccomp's token for x32, which the kernel reports as x86_64 with bit 30 set in the syscall number. */
const SCMP_ARCH_X32 = 0x4000003e;
const X32_BIT = 1 << 30;
const ENOSYS = 38;
/** seccomp_data: int nr at 0, u32 arch at 4. */
const OFF_NR = 0;
const OFF_ARCH = 4;

const ld = (off: number): Insn => ({ code: LD_W_ABS, jt: 0, jf: 0, k: off });
const ja = (skip: number): Insn => ({ code: JA, jt: 0, jf: 0, k: skip });
const jmp = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k: k >>> 0 });
const retEnosys = (): Insn => ({ code: RET_K, jt: 0, jf: 0, k: SCMP_ACT.errno(ENOSYS) });

/** Per kernel audit arch, the largest syscall number named by the profile for each libseccomp arch token. */
export type LastSyscalls = Map<number, Map<number, number>>;

/** Largest named syscall per architecture; the native one is always included (some profiles omit it). */
export function lastSyscalls(architectures: string[], names: string[]): LastSyscalls {
  const tokens = new Set<number>([nativeArchToken()]);
  for (const a of architectures) {
    const name = Object.hasOwn(ARCHITECTURES, a) ? ARCHITECTURES[a] : undefined;
    const token = name === undefined ? undefined : archToken(name);
    if (token !== undefined) tokens.add(token);
  }
  const out: LastSyscalls = new Map();
  for (const token of tokens) {
    const audit = token === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
    let largest = 0;
    for (const n of names) {
      const nr = syscallNumber(token, n);
      // Negative numbers are libseccomp's pseudo-syscalls for names this architecture lacks.
      if (nr !== undefined && nr > largest) largest = nr;
    }
    if (largest === 0) continue;
    const perArch = out.get(audit) ?? new Map<number, number>();
    perArch.set(token, largest);
    out.set(audit, perArch);
  }
  return out;
}

/** A conditional jump to the ENOSYS return `dist` instructions ahead, long form when it does not fit 8 bits. */
function sectionFor(audit: number, arches: Map<number, number>, toEnosys: number, toFilter: number): Insn[] {
  const body: Insn[] = [ld(OFF_NR)];
  if (arches.size === 2) {
    // x86_64 and x32 share the audit arch; bit 30 of the number tells them apart.
    const x32 = arches.get(SCMP_ARCH_X32);
    const x64 = arches.get(AUDIT_ARCH_X86_64);
    if (audit !== AUDIT_ARCH_X86_64 || x32 === undefined || x64 === undefined)
      throw new Error(`seccomp enosys stub: unexpected architectures sharing ${audit.toString(16)}`);
    if (toEnosys + 2 <= 255) {
      body.push(
        jmp(JSET, X32_BIT, 1, 0),
        jmp(JGT, x64, toEnosys + 2, 1),
        jmp(JGT, x32, toEnosys + 1, 0),
        ja(toFilter),
      );
    } else {
      body.push(
        jmp(JSET, X32_BIT, 1, 0),
        jmp(JGT, x64, 1, 2),
        jmp(JGT, x32, 0, 1), // jle x32, 1
        retEnosys(),
        ja(toFilter),
      );
    }
    return body;
  }
  const [[token, nr]] = [...arches] as [[number, number]];
  let tail: Insn[] =
    toEnosys + 1 <= 255
      ? [jmp(JGT, nr, toEnosys + 1, 0), ja(toFilter)]
      : [jmp(JGT, nr, 0, 1), retEnosys(), ja(toFilter)]; // jle nr, 1
  if (audit === AUDIT_ARCH_X86_64) {
    // Only x86_64 or only x32 named: the other mode skips the check and goes to the filter.
    const skip = tail.length - 1;
    tail = [token === SCMP_ARCH_X32 ? jmp(JSET, X32_BIT, 0, skip) : jmp(JSET, X32_BIT, skip, 0), ...tail];
  }
  return [...body, ...tail];
}

/**
 * The stub: load the arch, jump to its section (or straight to the filter for an arch not listed), where numbers
 * above the largest known get ENOSYS and the rest fall through to libseccomp's program, which follows the stub.
 */
export function enosysStub(last: LastSyscalls): Insn[] {
  // Built back to front, so every jump is counted from the end of the stub (the filter's first instruction).
  let tail: Insn[] = [ja(1), retEnosys()];
  const sectionEnd = new Map<number, number>();
  for (const [audit, arches] of last) {
    if (arches.size === 0) continue;
    const toEnosys = tail.length - 1;
    tail = [...sectionFor(audit, arches, toEnosys, toEnosys + 1), ...tail];
    sectionEnd.set(audit, tail.length);
  }
  tail = [ja(tail.length), ...tail];
  for (const [audit, len] of sectionEnd) {
    const jump = tail.length - len;
    tail = jump <= 255 ? [jmp(JEQ, audit, jump, 0), ...tail] : [jmp(JEQ, audit, 0, 1), ja(jump), ...tail];
  }
  return [ld(OFF_ARCH), ...tail];
}

export function encode(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    buf.writeUInt16LE(x.code, i * 8);
    buf.writeUInt8(x.jt, i * 8 + 2);
    buf.writeUInt8(x.jf, i * 8 + 3);
    buf.writeUInt32LE(x.k >>> 0, i * 8 + 4);
  });
  return buf;
}
