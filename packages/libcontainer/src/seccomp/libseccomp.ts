// libseccomp 2.5 through koffi: just what compiling a profile needs (a filter context, architectures, rules,
// attributes, and the BPF export). Loaded on first use, so a spec without linux.seccomp never opens the library.
import { closeSync, fstatSync, readSync } from "node:fs";
import koffi from "koffi";

/** enum scmp_filter_attr values we set. */
const SCMP_FLTATR_CTL_NNP = 3;
const SCMP_FLTATR_CTL_OPTIMIZE = 8;

/** __NR_SCMP_ERROR: the name is not a syscall libseccomp knows. */
const NR_SCMP_ERROR = -1;

/** One argument comparison (struct scmp_arg_cmp: u32 arg, u32 op, u64 datum_a, u64 datum_b). */
export interface ArgCmp {
  arg: number;
  op: number;
  a: bigint;
  b: bigint;
}

const ARG_CMP_SIZE = 24;
const MFD_CLOEXEC = 1;

interface Bindings {
  init: (def: number) => unknown;
  release: (ctx: unknown) => void;
  archAdd: (ctx: unknown, token: number) => number;
  archResolve: (name: string) => number;
  syscallResolve: (name: string) => number;
  syscallResolveArch: (token: number, name: string) => number;
  archNative: () => number;
  ruleAdd: (ctx: unknown, action: number, nr: number, n: number, cmps: Buffer | null) => number;
  attrSet: (ctx: unknown, attr: number, value: number) => number;
  exportBpf: (ctx: unknown, fd: number) => number;
  memfdCreate: (name: string, flags: number) => number;
}

let bindings: Bindings | undefined;

function lib(): Bindings {
  if (bindings) return bindings;
  let so: ReturnType<typeof koffi.load>;
  try {
    so = koffi.load("libseccomp.so.2");
  } catch (e) {
    throw new Error(`load libseccomp.so.2: ${(e as Error).message} (install libseccomp2)`);
  }
  const libc = koffi.load("libc.so.6");
  bindings = {
    init: so.func("void *seccomp_init(uint32_t def_action)"),
    release: so.func("void seccomp_release(void *ctx)"),
    archAdd: so.func("int seccomp_arch_add(void *ctx, uint32_t arch_token)"),
    archResolve: so.func("uint32_t seccomp_arch_resolve_name(const char *name)"),
    syscallResolve: so.func("int seccomp_syscall_resolve_name(const char *name)"),
    syscallResolveArch: so.func(
      "int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)",
    ),
    archNative: so.func("uint32_t seccomp_arch_native()"),
    ruleAdd: so.func(
      "int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *cmps)",
    ),
    attrSet: so.func("int seccomp_attr_set(void *ctx, int attr, uint32_t value)"),
    exportBpf: so.func("int seccomp_export_bpf(void *ctx, int fd)"),
    memfdCreate: libc.func("int memfd_create(const char *name, unsigned int flags)"),
  };
  return bindings;
}

/** libseccomp returns -errno; name it for messages. */
function errnoText(ret: number): string {
  const code = Object.entries(koffi.os.errno).find(([, v]) => v === -ret)?.[0];
  return code ?? `error ${ret}`;
}

/** libseccomp's token of an architecture name ("x86_64", "x32", ...), or undefined when it knows none. */
export function archToken(name: string): number | undefined {
  const token = lib().archResolve(name);
  return token === 0 ? undefined : token;
}

/** The token of the architecture we run on. */
export function nativeArchToken(): number {
  return lib().archNative();
}

/** A syscall's number on an architecture (x32's carry bit 30), or undefined when it has no such syscall. */
export function syscallNumber(token: number, name: string): number | undefined {
  const nr = lib().syscallResolveArch(token, name);
  return nr === NR_SCMP_ERROR ? undefined : nr;
}

/** A filter under construction. Always release() it (try/finally): it holds native memory. */
export class SeccompFilter {
  private ctx: unknown;
  private readonly b: Bindings;

  constructor(defaultAction: number) {
    this.b = lib();
    this.ctx = this.b.init(defaultAction);
    if (!this.ctx) throw new Error(`seccomp_init ${defaultAction.toString(16)}: failed`);
    // We load the program ourselves; no_new_privs is the spec's business (process.noNewPrivileges), not libseccomp's.
    this.attr(SCMP_FLTATR_CTL_NNP, 0, "no_new_privs");
  }

  private attr(attr: number, value: number, what: string): void {
    const ret = this.b.attrSet(this.ctx, attr, value);
    if (ret < 0) throw new Error(`seccomp attribute ${what}: ${errnoText(ret)}`);
  }

  /** Binary-tree dispatch for long rule sets (runc does it above 32 rules); older libseccomp lacks it. */
  optimize(): void {
    this.b.attrSet(this.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  }

  /** Adds an architecture by libseccomp name ("x86_64", "x32", ...); the native one is there already. */
  addArch(name: string): boolean {
    const token = this.b.archResolve(name);
    if (token === 0) return false;
    const ret = this.b.archAdd(this.ctx, token);
    if (ret < 0 && ret !== -(koffi.os.errno.EEXIST ?? 17))
      throw new Error(`seccomp add architecture ${name}: ${errnoText(ret)}`);
    return true;
  }

  /** The native syscall number of a name, or undefined when libseccomp does not know it. */
  resolve(name: string): number | undefined {
    const nr = this.b.syscallResolve(name);
    return nr === NR_SCMP_ERROR ? undefined : nr;
  }

  addRule(name: string, nr: number, action: number, cmps: ArgCmp[]): void {
    let buf: Buffer | null = null;
    if (cmps.length > 0) {
      buf = Buffer.alloc(ARG_CMP_SIZE * cmps.length);
      cmps.forEach((c, i) => {
        buf?.writeUInt32LE(c.arg, i * ARG_CMP_SIZE);
        buf?.writeUInt32LE(c.op, i * ARG_CMP_SIZE + 4);
        buf?.writeBigUInt64LE(BigInt.asUintN(64, c.a), i * ARG_CMP_SIZE + 8);
        buf?.writeBigUInt64LE(BigInt.asUintN(64, c.b), i * ARG_CMP_SIZE + 16);
      });
    }
    const ret = this.b.ruleAdd(this.ctx, action, nr, cmps.length, buf);
    if (ret < 0) throw new Error(`seccomp add rule for syscall ${name}: ${errnoText(ret)}`);
  }

  /** The classic BPF program (an array of 8-byte struct sock_filter), through a memfd. */
  exportBpf(): Buffer {
    const fd = this.b.memfdCreate("tsrun-seccomp", MFD_CLOEXEC);
    if (fd < 0) throw new Error(`memfd_create: ${errnoText(-koffi.errno())}`);
    try {
      const ret = this.b.exportBpf(this.ctx, fd);
      if (ret < 0) throw new Error(`seccomp export bpf: ${errnoText(ret)}`);
      const size = fstatSync(fd).size;
      const out = Buffer.alloc(size);
      let off = 0;
      while (off < size) {
        const n = readSync(fd, out, off, size - off, off);
        if (n === 0) break;
        off += n;
      }
      return out.subarray(0, off);
    } finally {
      closeSync(fd);
    }
  }

  release(): void {
    if (this.ctx) this.b.release(this.ctx);
    this.ctx = null;
  }
}
