import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import type { Seccomp } from "../spec.js";
import { compileSeccomp } from "./compile-seccomp.js";
import { SECCOMP_FILTER_FLAG } from "./names.js";
import { validateSeccomp } from "./validate-seccomp.js";

/** containers-common's default profile as podman 4.3 puts it in config.json on x86_64 (see fixtures/README.md). */
const podman = (): Seccomp =>
  JSON.parse(readFileSync(new URL("./fixtures/podman-default.json", import.meta.url), "utf8")) as Seccomp;

// struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. BPF_RET|BPF_K is 0x06.
function returns(program: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < program.length; i += 8)
    if (program.readUInt16LE(i) === 0x06) out.push(program.readUInt32LE(i + 4));
  return out;
}

describe("compileSeccomp", () => {
  it("compiles podman's default profile into a BPF program", () => {
    const spec = podman();
    validateSeccomp(spec);
    const c = compileSeccomp(spec);
    expect(c).toBeDefined();
    expect(c?.program.length).toBeGreaterThan(100 * 8);
    expect((c?.program.length ?? 0) % 8).toBe(0);
    expect(c?.program.length).toBeLessThanOrEqual(4096 * 8);
    expect(c?.notify).toBe(false);
    // No flags in the profile: SPEC_ALLOW, as runc defaults to.
    expect(c?.flags).toBe(SECCOMP_FILTER_FLAG.SPEC_ALLOW);
    // The default is ERRNO(ENOSYS) and the program returns it, and ALLOW.
    const rets = returns(c?.program ?? Buffer.alloc(0));
    expect(rets).toContain(0x00050000 | 38);
    expect(rets).toContain(0x7fff0000);
  });

  it("skips syscall names this libseccomp does not know, and compiles the rest", () => {
    const c = compileSeccomp({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["no_such_syscall_xyz", "mkdir"], action: "SCMP_ACT_ERRNO" }],
    });
    expect(c?.skipped).toEqual(["no_such_syscall_xyz"]);
    expect(returns(c?.program ?? Buffer.alloc(0))).toContain(0x00050000 | 1); // EPERM by default
  });

  it("honours errnoRet and defaultErrnoRet", () => {
    const c = compileSeccomp({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      syscalls: [
        { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28 },
        { names: ["read", "write", "exit_group"], action: "SCMP_ACT_ALLOW" },
      ],
    });
    const rets = returns(c?.program ?? Buffer.alloc(0));
    expect(rets).toContain(0x00050000 | 28);
    expect(rets).toContain(0x00050000 | 38);
  });

  it("compiles every action and operator, and several conditions on one argument", () => {
    const actions = [
      "SCMP_ACT_KILL",
      "SCMP_ACT_KILL_PROCESS",
      "SCMP_ACT_KILL_THREAD",
      "SCMP_ACT_TRAP",
      "SCMP_ACT_ERRNO",
      "SCMP_ACT_TRACE",
      "SCMP_ACT_LOG",
      "SCMP_ACT_NOTIFY",
    ];
    const names = ["getpid", "getppid", "gettid", "getuid", "getgid", "geteuid", "getegid", "sync"];
    const ops = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT"];
    const c = compileSeccomp({
      defaultAction: "SCMP_ACT_ALLOW",
      flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"],
      listenerPath: "/run/agent.sock",
      syscalls: [
        ...actions.map((action, i) => ({ names: [names[i] as string], action })),
        ...ops.map((op, i) => ({
          names: ["kill"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: i, value: 9, op }],
        })),
        {
          names: ["personality"],
          action: "SCMP_ACT_ERRNO",
          args: [
            { index: 0, value: 8, op: "SCMP_CMP_EQ" },
            { index: 0, value: 0xff, valueTwo: 0x20, op: "SCMP_CMP_MASKED_EQ" },
          ],
        },
      ],
    });
    expect(c?.notify).toBe(true);
    // TSYNC is dropped (single-threaded executor); LOG and NEW_LISTENER remain.
    expect(c?.flags).toBe(SECCOMP_FILTER_FLAG.LOG | SECCOMP_FILTER_FLAG.NEW_LISTENER);
    const rets = returns(c?.program ?? Buffer.alloc(0));
    for (const r of [0x80000000, 0, 0x30000, 0x50001, 0x7ff00001, 0x7ffc0000, 0x7fc00000])
      expect(rets, r.toString(16)).toContain(r);
  });

  it("refuses a profile too long for the kernel (4096 instructions)", () => {
    const syscalls = Array.from({ length: 3000 }, (_, i) => ({
      names: ["kill"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 1 + (i % 200),
      args: [{ index: 1, value: i, op: "SCMP_CMP_EQ" }],
    }));
    expect(() => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", syscalls })).toThrow(
      /linux.seccomp: compiles to \d+ instructions, more than the kernel's 4096/,
    );
  });

  it("is undefined for a profile that asks for nothing", () => {
    expect(compileSeccomp({ defaultAction: "" })).toBeUndefined();
  });

  it("names an unknown action, operator, flag or architecture", () => {
    const cases: [Seccomp, string][] = [
      [{ defaultAction: "SCMP_ACT_NOPE" }, 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"'],
      [
        { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_MAYBE" }] },
        'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_MAYBE"',
      ],
      [
        {
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [
            { names: ["kill"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, value: 9, op: "SCMP_CMP_XOR" }] },
          ],
        },
        'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_XOR"',
      ],
      [
        { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_X"] },
        'unknown flag "SECCOMP_FILTER_FLAG_X"',
      ],
      [
        { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_Z80"] },
        'unknown architecture "SCMP_ARCH_Z80"',
      ],
    ];
    for (const [spec, message] of cases) {
      expect(() => compileSeccomp(spec)).toThrow(ConfigError);
      expect(() => compileSeccomp(spec)).toThrow(message);
      expect(() => validateSeccomp(spec)).toThrow(message);
    }
  });
});

describe("validateSeccomp", () => {
  const bad: [unknown, string][] = [
    ["x", "linux.seccomp: must be an object"],
    [
      { syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] },
      "linux.seccomp.defaultAction: is required",
    ],
    [{ defaultAction: 1 }, "linux.seccomp.defaultAction: must be a string"],
    [{ defaultAction: "SCMP_ACT_NOTIFY" }, "cannot be the default action"],
    [
      { defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: -1 },
      "defaultErrnoRet: must be an integer from 0 to 65535",
    ],
    [
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: [], action: "SCMP_ACT_ERRNO" }] },
      "names: must be a non-empty",
    ],
    [
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: [""], action: "SCMP_ACT_ERRNO" }] },
      "empty name",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["kill"], action: "SCMP_ACT_ERRNO", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] },
        ],
      },
      "args[0].index: must be an integer from 0 to 5",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["kill"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }] },
        ],
      },
      "args[0].value: must be a non-negative integer",
    ],
    [
      {
        defaultAction: "SCMP_ACT_ALLOW",
        listenerPath: "/a",
        syscalls: [{ names: ["write"], action: "SCMP_ACT_NOTIFY" }],
      },
      "SCMP_ACT_NOTIFY cannot be used for the write syscall",
    ],
    [
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] },
      "linux.seccomp.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY",
    ],
  ];
  it.each(bad)("refuses %j", (spec, message) => {
    expect(() => validateSeccomp(spec)).toThrow(message);
  });

  it("accepts an absent or empty profile (no seccomp, as runc) and podman's", () => {
    expect(() => validateSeccomp(undefined)).not.toThrow();
    expect(() => validateSeccomp({})).not.toThrow();
    expect(() => validateSeccomp({ defaultAction: "", syscalls: [] })).not.toThrow();
    expect(() => validateSeccomp(podman())).not.toThrow();
  });
});
