// What compiled filters decide, run through a BPF interpreter: actions, errnos, argument conditions, the -ENOSYS
// stub for syscalls newer than the profile, and the three x86 ABIs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Seccomp } from "../spec.js";
import { runBpf } from "./bpf-run.js";
import { compileSeccomp } from "./compile-seccomp.js";

// From linux/audit.h and the x86 syscall tables: the test does not take them from the code it tests.
const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const X32_BIT = 0x40000000;
const NR = { read: 0, write: 1, kill: 62, mkdir: 83, getpid: 39, futex_waitv: 449 };
const NR_I386 = { mkdir: 39, getpid: 20 };

const ALLOW = 0x7fff0000;
const errno = (e: number) => 0x00050000 + e;
const KILL_PROCESS = 0x80000000;
const EPERM = 1;
const ENOSYS = 38;

const program = (s: Seccomp): Buffer => {
  const c = compileSeccomp(s);
  if (!c) throw new Error("no program");
  return c.program;
};
const on = (p: Buffer, nr: number, arch = X86_64, args: bigint[] = []) => runBpf(p, { nr, arch, args });

const podman = (): Seccomp =>
  JSON.parse(readFileSync(new URL("./fixtures/podman-default.json", import.meta.url), "utf8")) as Seccomp;

describe("compiled filters decide as the profile says", () => {
  it("podman's profile: allows read and mkdir on all three ABIs, ENOSYS by default", () => {
    const p = program(podman());
    expect(on(p, NR.read)).toBe(ALLOW);
    expect(on(p, NR.mkdir)).toBe(ALLOW);
    expect(on(p, 1000)).toBe(errno(ENOSYS));
    // 32-bit x86 is listed too, with its own numbers.
    expect(on(p, NR_I386.mkdir, I386)).toBe(ALLOW);
    expect(on(p, NR.mkdir | X32_BIT)).toBe(ALLOW);
  });

  it("errnoRet per rule; EPERM when absent", () => {
    const p = program({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 28 },
        { names: ["getpid"], action: "SCMP_ACT_ERRNO" },
      ],
    });
    expect(on(p, NR.mkdir)).toBe(errno(28));
    expect(on(p, NR.getpid)).toBe(errno(EPERM));
    expect(on(p, NR.read)).toBe(ALLOW);
  });

  it("argument conditions: one rule ANDs different arguments, several on one argument are ORed (runc)", () => {
    const p = program({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["kill"],
          action: "SCMP_ACT_ERRNO",
          args: [
            { index: 0, value: 1, op: "SCMP_CMP_EQ" },
            { index: 1, value: 9, op: "SCMP_CMP_EQ" },
          ],
        },
        {
          names: ["write"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 5,
          args: [
            { index: 0, value: 7, op: "SCMP_CMP_EQ" },
            { index: 0, value: 9, op: "SCMP_CMP_EQ" },
          ],
        },
        {
          names: ["read"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 2, value: 0xf0, valueTwo: 0x30, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    });
    expect(on(p, NR.kill, X86_64, [1n, 9n])).toBe(errno(EPERM));
    expect(on(p, NR.kill, X86_64, [1n, 15n])).toBe(ALLOW);
    expect(on(p, NR.kill, X86_64, [2n, 9n])).toBe(ALLOW);
    expect(on(p, NR.write, X86_64, [7n])).toBe(errno(5));
    expect(on(p, NR.write, X86_64, [9n])).toBe(errno(5));
    expect(on(p, NR.write, X86_64, [8n])).toBe(ALLOW);
    expect(on(p, NR.read, X86_64, [0n, 0n, 0x3fn])).toBe(errno(EPERM));
    expect(on(p, NR.read, X86_64, [0n, 0n, 0x4fn])).toBe(ALLOW);
  });

  it("a restrictive profile gets ENOSYS above its largest syscall, per ABI, and its default below", () => {
    const p = program({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [{ names: ["read", "write", "mkdir", "getpid"], action: "SCMP_ACT_ALLOW" }],
    });
    expect(on(p, NR.mkdir)).toBe(ALLOW);
    expect(on(p, NR.kill)).toBe(errno(EPERM)); // below the largest named (mkdir, 83): the default
    expect(on(p, 84)).toBe(errno(ENOSYS));
    expect(on(p, 1000)).toBe(errno(ENOSYS));
    // i386: getpid is 20, mkdir 39; the largest is 39.
    expect(on(p, NR_I386.getpid, I386)).toBe(ALLOW);
    expect(on(p, 30, I386)).toBe(errno(EPERM));
    expect(on(p, 40, I386)).toBe(errno(ENOSYS));
    // x32: the same numbers with bit 30.
    expect(on(p, NR.mkdir | X32_BIT)).toBe(ALLOW);
    expect(on(p, 84 | X32_BIT)).toBe(errno(ENOSYS));
    expect(on(p, NR.kill | X32_BIT)).toBe(errno(EPERM));
  });

  it("the stub covers only the ABI listed: x86_64 alone leaves x32 to the filter", () => {
    const p = program({
      defaultAction: "SCMP_ACT_KILL_PROCESS",
      syscalls: [{ names: ["read", "mkdir"], action: "SCMP_ACT_ALLOW" }],
    });
    expect(on(p, NR.mkdir)).toBe(ALLOW);
    expect(on(p, NR.getpid)).toBe(KILL_PROCESS);
    expect(on(p, NR.futex_waitv)).toBe(errno(ENOSYS));
    // x32 was not given: no stub for it, and libseccomp's filter applies its bad-arch action (KILL_THREAD).
    expect(on(p, 1000 | X32_BIT)).toBe(0);
  });

  it("no stub after ALLOW, LOG or TRACE defaults", () => {
    for (const defaultAction of ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"]) {
      const p = program({ defaultAction, syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] });
      expect(on(p, 1000)).toBe(defaultAction === "SCMP_ACT_ALLOW" ? ALLOW : 0x7ffc0000);
    }
  });
});
