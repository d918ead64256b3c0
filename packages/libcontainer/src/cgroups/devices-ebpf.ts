// Device access control on cgroup v2: v2 has no devices.allow/deny files; the kernel instead runs a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup for every open and mknod of a device node. The rules
// are first reduced the way the v1 controller would apply them in order (a default plus exceptions), then compiled
// to a small program: one block per exception, the default at the end. Loaded and attached with bpf(2) through
// koffi, with BPF_F_ALLOW_MULTI as runc does; programs attached earlier by us are detached after the new one is in.

import { createRequire } from "node:module";
import type { DeviceCgroup } from "../spec.js";
import { CgroupError } from "./errors.js";
import { deviceRule } from "./values.js";

// bpf_cgroup_dev_ctx: access_type (type | access << 16), major, minor, all u32.
const BPF_DEVCG_DEV_BLOCK = 1;
const BPF_DEVCG_DEV_CHAR = 2;
const ACCESS_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };

/** One rule in the kernel's terms: type "a"|"b"|"c", -1 for a wildcard number, access as bits. */
export interface DeviceException {
  type: "a" | "b" | "c";
  major: number;
  minor: number;
  access: number;
}

export interface DevicePolicy {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

const accessBits = (s: string): number => [...s].reduce((n, ch) => n | (ACCESS_BITS[ch] ?? 0), 0);

/**
 * The v1 controller's semantics: "a" (all devices) resets to allow-all or deny-all; other rules add an exception
 * to the default or take access away from an identical exception.
 */
export function devicePolicy(rules: readonly DeviceCgroup[]): DevicePolicy {
  let defaultAllow = true; // a new v1 cgroup allows everything
  let exceptions: DeviceException[] = [];
  rules.forEach((rule, i) => {
    deviceRule(rule, i); // validates type, numbers and access with the v1 writer's messages
    const type = (rule.type ?? "a") as DeviceException["type"];
    const access = accessBits(rule.access ?? "rwm");
    if (type === "a") {
      defaultAllow = rule.allow;
      exceptions = [];
      return;
    }
    const ex: DeviceException = {
      type,
      major: rule.major === undefined ? -1 : rule.major,
      minor: rule.minor === undefined ? -1 : rule.minor,
      access,
    };
    const same = exceptions.find((e) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor);
    if (rule.allow === defaultAllow) {
      // Back towards the default: remove the access from an identical exception.
      if (same) {
        same.access &= ~access;
        if (same.access === 0) exceptions = exceptions.filter((e) => e !== same);
      }
    } else if (same) same.access |= access;
    else exceptions.push(ex);
  });
  return { defaultAllow, exceptions };
}

// eBPF instructions, 8 bytes each: opcode, dst | src << 4, signed 16-bit offset, signed 32-bit immediate.
type Insn = [code: number, dst: number, src: number, off: number, imm: number];
const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R4 = 4;
const R5 = 5;
const LDX_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const AND32_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RSH32_K = 0x74;
const MOV32_K = 0xb4;
const MOV32_X = 0xbc;
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JNE_K = 0x55;
const JSET_K = 0x45;
const EXIT = 0x95;

/** The program for a policy. Exceptions are checked in order; the first that matches decides. */
export function compileDeviceProgram(policy: DevicePolicy): Insn[] {
  const prog: Insn[] = [
    [LDX_W, R2, R1, 0, 0], // r2 = type
    [AND32_K, R2, 0, 0, 0xffff],
    [LDX_W, R3, R1, 0, 0], // r3 = access requested
    [RSH32_K, R3, 0, 0, 16],
    [LDX_W, R4, R1, 4, 0], // r4 = major
    [LDX_W, R5, R1, 8, 0], // r5 = minor
  ];
  for (const ex of policy.exceptions) {
    const block: Insn[] = [];
    // Offsets are patched once the block's length is known: every test jumps past the block.
    if (ex.type !== "a")
      block.push([JNE_K, R2, 0, -1, ex.type === "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR]);
    if (policy.defaultAllow) {
      // A deny exception matches when any requested access is in it (the v1 controller's partial match).
      block.push([MOV32_X, R1, R3, 0, 0], [AND32_K, R1, 0, 0, ex.access], [JEQ_K, R1, 0, -1, 0]);
    } else {
      // An allow exception matches when it covers every requested access.
      if ((~ex.access & 7) !== 0) block.push([JSET_K, R3, 0, -1, ~ex.access & 7]);
    }
    if (ex.major !== -1) block.push([JNE_K, R4, 0, -1, ex.major]);
    if (ex.minor !== -1) block.push([JNE_K, R5, 0, -1, ex.minor]);
    block.push([MOV32_K, R0, 0, 0, policy.defaultAllow ? 0 : 1], [EXIT, 0, 0, 0, 0]);
    block.forEach((insn, i) => {
      if (insn[3] === -1) insn[3] = block.length - i - 1;
    });
    prog.push(...block);
  }
  prog.push([MOV32_K, R0, 0, 0, policy.defaultAllow ? 1 : 0], [EXIT, 0, 0, 0, 0]);
  return prog;
}

export function encodeProgram(prog: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, dst, src, off, imm], i) => {
    buf.writeUInt8(code, i * 8);
    buf.writeUInt8((dst & 0xf) | ((src & 0xf) << 4), i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return buf;
}

// bpf(2) commands and constants from linux/bpf.h.
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;
const ATTR_SIZE = 128;
const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280 };
const O_RDONLY_DIRECTORY_CLOEXEC = 0o200000 | 0o2000000;

interface Sys {
  bpf(cmd: number, attr: Buffer): number;
  open(path: string): number;
  close(fd: number): void;
}

type Koffi = typeof import("koffi");
let koffiModule: Koffi | undefined;
// Loaded on first use: only a v2 host with device rules needs it, and the native module costs start-up time.
const ffi = (): Koffi => {
  koffiModule ??= createRequire(import.meta.url)("koffi") as Koffi;
  return koffiModule;
};

let sys: Sys | undefined;
function syscalls(): Sys {
  if (sys) return sys;
  const koffi = ffi();
  const nr = SYS_BPF[process.arch];
  if (nr === undefined)
    throw new CgroupError(`cgroup v2 devices: bpf(2) is not wired up for ${process.arch}`);
  const lib = koffi.load("libc.so.6");
  const syscall = lib.func("long syscall(long nr, ...)");
  const open = lib.func("int open(const char *path, int flags, int mode)");
  const close = lib.func("int close(int fd)");
  const fail = (what: string): never => {
    const errno = koffi.errno();
    const name = Object.entries(koffi.os.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
    throw new CgroupError(`${what}: ${name}`, name);
  };
  sys = {
    bpf: (cmd, attr) => {
      const r = Number(syscall(nr, "int", cmd, "void *", attr, "unsigned int", attr.length));
      return r < 0 ? fail(`bpf command ${cmd}`) : r;
    },
    open: (path) => {
      const fd = Number(open(path, O_RDONLY_DIRECTORY_CLOEXEC, 0));
      return fd < 0 ? fail(`open ${path}`) : fd;
    },
    close: (fd) => {
      close(fd);
    },
  };
  return sys;
}

/** Loads the program; returns its fd. The verifier's log is part of the error when it refuses. */
export function loadDeviceProgram(prog: readonly Insn[]): number {
  const s = syscalls();
  const koffi = ffi();
  const insns = encodeProgram(prog);
  const license = Buffer.from("Apache\0");
  const log = Buffer.alloc(65536);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
  attr.writeUInt32LE(prog.length, 4);
  attr.writeBigUInt64LE(BigInt(koffi.address(insns) as bigint), 8);
  attr.writeBigUInt64LE(BigInt(koffi.address(license) as bigint), 16);
  attr.writeUInt32LE(1, 24); // log_level
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(BigInt(koffi.address(log) as bigint), 32);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 68); // expected_attach_type
  try {
    return s.bpf(BPF_PROG_LOAD, attr);
  } catch (e) {
    const text = log.toString("utf8", 0, Math.max(0, log.indexOf(0))).trim();
    if (e instanceof CgroupError && text !== "")
      e.message += ` (verifier: ${text.split("\n").slice(-3).join("; ")})`;
    throw e;
  } finally {
    // Keep the buffers alive across the call.
    void insns.length;
    void license.length;
  }
}

/** Ids of the device programs attached to the cgroup directory fd. */
function attachedIds(dirFd: number): number[] {
  const s = syscalls();
  const koffi = ffi();
  const ids = Buffer.alloc(64 * 4);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(dirFd, 0);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
  attr.writeBigUInt64LE(BigInt(koffi.address(ids) as bigint), 16);
  attr.writeUInt32LE(64, 24);
  s.bpf(BPF_PROG_QUERY, attr);
  const count = Math.min(attr.readUInt32LE(24), 64);
  return Array.from({ length: count }, (_, i) => ids.readUInt32LE(i * 4));
}

function attachAttr(dirFd: number, progFd: number, flags: number): Buffer {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(dirFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
  attr.writeUInt32LE(flags, 12);
  return attr;
}

/**
 * Makes `rules` the device policy of the cgroup v2 directory `dir`: loads the program, attaches it, then detaches
 * the device programs that were attached before (a second set() replaces the first policy, never stacks on it).
 */
export function setDevicesV2(dir: string, rules: readonly DeviceCgroup[]): void {
  const s = syscalls();
  const prog = compileDeviceProgram(devicePolicy(rules));
  const dirFd = s.open(dir);
  const fds: number[] = [];
  try {
    const before = attachedIds(dirFd);
    const progFd = loadDeviceProgram(prog);
    fds.push(progFd);
    s.bpf(BPF_PROG_ATTACH, attachAttr(dirFd, progFd, BPF_F_ALLOW_MULTI));
    for (const id of before) {
      const get = Buffer.alloc(ATTR_SIZE);
      get.writeUInt32LE(id, 0);
      let oldFd: number;
      try {
        oldFd = s.bpf(BPF_PROG_GET_FD_BY_ID, get);
      } catch {
        continue; // gone meanwhile
      }
      fds.push(oldFd);
      s.bpf(BPF_PROG_DETACH, attachAttr(dirFd, oldFd, 0));
    }
  } catch (e) {
    if (e instanceof CgroupError) e.message = `set devices on ${dir}: ${e.message}`;
    throw e;
  } finally {
    for (const fd of fds) s.close(fd);
    s.close(dirFd);
  }
}

/** Renders a policy back as v1 lines (debugging and tests). */
export function describePolicy(p: DevicePolicy): string[] {
  const acc = (bits: number) => ["m", "r", "w"].filter((_, i) => bits & (1 << i)).join("") || "-";
  const num = (n: number) => (n === -1 ? "*" : String(n));
  return [
    `default ${p.defaultAllow ? "allow" : "deny"}`,
    ...p.exceptions.map(
      (e) =>
        `${p.defaultAllow ? "deny" : "allow"} ${e.type} ${num(e.major)}:${num(e.minor)} ${acc(e.access)}`,
    ),
  ];
}
