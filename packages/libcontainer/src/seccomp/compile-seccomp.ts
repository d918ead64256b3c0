// linux.seccomp -> a classic BPF program and the seccomp(2) flags to load it with. libseccomp (through koffi)
// does the compiling, here in tsrun, so the executor only loads bytes (TypeScript decides, C executes).
// The rules follow runc's libcontainer/seccomp: unknown syscall names are skipped, a rule whose action is the
// default one is dropped, several conditions on the same argument become one rule each, and a restrictive
// profile gets the -ENOSYS stub for syscalls newer than it (enosys.ts).
import { ConfigError } from "../errors.js";
import type { Seccomp } from "../spec.js";
import { encode, enosysStub, lastSyscalls } from "./enosys.js";
import { type ArgCmp, SeccompFilter } from "./libseccomp.js";
import { ACTIONS, ARCHITECTURES, FLAGS, OPERATORS, SCMP_ACT, SECCOMP_FILTER_FLAG } from "./names.js";

export interface CompiledSeccomp {
  /** struct sock_filter[], ready for seccomp(SECCOMP_SET_MODE_FILTER). */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits; NEW_LISTENER when a rule notifies. */
  flags: bigint;
  /** A rule uses SCMP_ACT_NOTIFY: the listener goes to listenerPath. */
  notify: boolean;
  /** Names this libseccomp does not know (newer syscalls, other architectures' names), left out as runc does. */
  skipped: string[];
}

/** Above this many rules, binary-tree dispatch pays off (runc's threshold). */
const OPTIMIZE_ABOVE = 32;

function action(name: unknown, errnoRet: number | undefined, field: string): number {
  const make = typeof name === "string" && Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
  if (!make) throw new ConfigError(field, `unknown action ${JSON.stringify(name)}`);
  return make(errnoRet);
}

function operator(name: unknown, field: string): number {
  const op = typeof name === "string" && Object.hasOwn(OPERATORS, name) ? OPERATORS[name] : undefined;
  if (op === undefined) throw new ConfigError(field, `unknown operator ${JSON.stringify(name)}`);
  return op;
}

/** The filter flags: absent means SPEC_ALLOW (runc's default: no speculative-store-bypass mitigation forced). */
function filterFlags(flags: string[] | undefined | null): bigint {
  if (flags === undefined || flags === null) return SECCOMP_FILTER_FLAG.SPEC_ALLOW;
  let bits = 0n;
  flags.forEach((f, i) => {
    const bit = Object.hasOwn(FLAGS, f) ? FLAGS[f] : undefined;
    if (bit === undefined)
      throw new ConfigError(`linux.seccomp.flags[${i}]`, `unknown flag ${JSON.stringify(f)}`);
    bits |= bit;
  });
  return bits;
}

/**
 * runc's -ENOSYS stub goes in front of restrictive filters only: after ALLOW, LOG or TRACE (a tracer handles new
 * syscalls itself) a syscall the profile does not know is let through anyway, and after ERRNO(ENOSYS) it would
 * get ENOSYS without the stub.
 */
function wantsEnosysStub(name: string, action: number): boolean {
  if (name === "SCMP_ACT_ALLOW" || name === "SCMP_ACT_LOG" || name === "SCMP_ACT_TRACE") return false;
  return action !== SCMP_ACT.errno(38);
}

/** undefined when the profile asks for nothing (no default action and no rules), as runc treats it. */
export function compileSeccomp(spec: Seccomp): CompiledSeccomp | undefined {
  const syscalls = spec.syscalls ?? [];
  if (!spec.defaultAction && syscalls.length === 0) return undefined;
  const defaultAction = action(spec.defaultAction, spec.defaultErrnoRet, "linux.seccomp.defaultAction");
  let flags = filterFlags(spec.flags);
  const skipped: string[] = [];
  let notify = false;

  const filter = new SeccompFilter(defaultAction);
  try {
    (spec.architectures ?? []).forEach((a, i) => {
      const name = Object.hasOwn(ARCHITECTURES, a) ? ARCHITECTURES[a] : undefined;
      if (!name || !filter.addArch(name))
        throw new ConfigError(
          `linux.seccomp.architectures[${i}]`,
          `unknown architecture ${JSON.stringify(a)}`,
        );
    });
    const ruleCount = syscalls.reduce((n, s) => n + (s.names?.length ?? 0), 0);
    if (ruleCount > OPTIMIZE_ABOVE) filter.optimize();

    syscalls.forEach((call, i) => {
      const field = `linux.seccomp.syscalls[${i}]`;
      const act = action(call.action, call.errnoRet, `${field}.action`);
      const conds: ArgCmp[] = (call.args ?? []).map((a, j) => ({
        arg: a.index,
        op: operator(a.op, `${field}.args[${j}].op`),
        a: BigInt(a.value),
        b: BigInt(a.valueTwo ?? 0),
      }));
      if (act === SCMP_ACT.NOTIFY) notify = true;
      // libseccomp refuses a rule with the default action; it would change nothing anyway.
      if (act === defaultAction) return;
      // libseccomp ANDs the conditions of one rule and allows one per argument; with several on the same argument,
      // runc adds each condition as a rule of its own (an OR), and so do we.
      const perArg = new Set(conds.map((c) => c.arg));
      const rules = perArg.size < conds.length ? conds.map((c) => [c]) : [conds];
      for (const name of call.names ?? []) {
        const nr = filter.resolve(name);
        if (nr === undefined) {
          skipped.push(name);
          continue;
        }
        for (const r of rules) filter.addRule(name, nr, act, r);
      }
    });
    if (notify) flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
    let program = filter.exportBpf();
    if (wantsEnosysStub(spec.defaultAction, defaultAction)) {
      const names = syscalls.flatMap((c) => c.names ?? []);
      program = Buffer.concat([encode(enosysStub(lastSyscalls(spec.architectures ?? [], names))), program]);
    }
    // BPF_MAXINSNS: the kernel refuses longer programs; say so before any process exists.
    if (program.length / 8 > 4096)
      throw new ConfigError(
        "linux.seccomp",
        `compiles to ${program.length / 8} instructions, more than the kernel's 4096`,
      );
    return { program, flags, notify, skipped };
  } finally {
    filter.release();
  }
}
