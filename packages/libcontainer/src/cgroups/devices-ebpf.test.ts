import { describe, expect, it } from "vitest";
import type { DeviceCgroup } from "../spec.js";
import { compileDeviceProgram, describePolicy, devicePolicy, encodeProgram } from "./devices-ebpf.js";

/** Runs the encoded program on one access as the kernel would (the few opcodes the compiler emits). */
function run(code: Buffer, type: "b" | "c", access: string, major: number, minor: number): number {
  const bits = [...access].reduce((n, ch) => n | ({ m: 1, r: 2, w: 4 }[ch] ?? 0), 0);
  const ctx = [(type === "b" ? 1 : 2) | (bits << 16), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < code.length / 8; pc++) {
    const op = code.readUInt8(pc * 8);
    const regs = code.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = code.readInt16LE(pc * 8 + 2);
    const imm = code.readInt32LE(pc * 8 + 4) >>> 0;
    switch (op) {
      case 0x61:
        r[dst] = ctx[off / 4]! >>> 0;
        break;
      case 0x54:
        r[dst] = (r[dst]! & imm) >>> 0;
        break;
      case 0x74:
        r[dst] = r[dst]! >>> imm;
        break;
      case 0xb4:
        r[dst] = imm;
        break;
      case 0xbc:
        r[dst] = r[src]!;
        break;
      case 0x15:
        if (r[dst] === imm) pc += off;
        break;
      case 0x55:
        if (r[dst] !== imm) pc += off;
        break;
      case 0x45:
        if ((r[dst]! & imm) !== 0) pc += off;
        break;
      case 0x95:
        return r[0]!;
      default:
        throw new Error(`opcode ${op.toString(16)} at ${pc}`);
    }
  }
  throw new Error("fell off the end");
}

const rule = (
  allow: boolean,
  type: string,
  major?: number,
  minor?: number,
  access = "rwm",
): DeviceCgroup => ({
  allow,
  type,
  ...(major === undefined ? {} : { major }),
  ...(minor === undefined ? {} : { minor }),
  access,
});

describe("devicePolicy", () => {
  it("starts from allow-all and resets on a rule for all devices", () => {
    expect(describePolicy(devicePolicy([]))).toEqual(["default allow"]);
    expect(
      describePolicy(devicePolicy([rule(false, "a"), rule(true, "c", 1, 3), rule(true, "c", 136)])),
    ).toEqual(["default deny", "allow c 1:3 mrw", "allow c 136:* mrw"]);
    expect(describePolicy(devicePolicy([rule(true, "c", 1, 3), rule(false, "a")]))).toEqual(["default deny"]);
  });

  it("a rule back towards the default takes access away from an identical exception", () => {
    const p = devicePolicy([rule(false, "a"), rule(true, "c", 1, 5, "rw"), rule(false, "c", 1, 5, "w")]);
    expect(describePolicy(p)).toEqual(["default deny", "allow c 1:5 r"]);
    const q = devicePolicy([rule(false, "a"), rule(true, "c", 1, 5, "r"), rule(false, "c", 1, 5, "r")]);
    expect(describePolicy(q)).toEqual(["default deny"]);
  });

  it("refuses what the v1 writer refuses", () => {
    expect(() => devicePolicy([rule(true, "x")])).toThrow(/invalid device type/);
    expect(() => devicePolicy([rule(true, "c", 1, 3, "rx")])).toThrow(/invalid access/);
  });
});

describe("compileDeviceProgram", () => {
  const prog = (rules: DeviceCgroup[]) => encodeProgram(compileDeviceProgram(devicePolicy(rules)));

  it("an allow-list lets through exactly its devices and accesses", () => {
    const p = prog([
      rule(false, "a"),
      rule(true, "c", 1, 3),
      rule(true, "c", 1, 5, "r"),
      rule(true, "c", 136),
    ]);
    expect(run(p, "c", "rw", 1, 3)).toBe(1);
    expect(run(p, "c", "r", 1, 5)).toBe(1);
    expect(run(p, "c", "rw", 1, 5)).toBe(0);
    expect(run(p, "c", "w", 1, 5)).toBe(0);
    expect(run(p, "c", "rw", 136, 7)).toBe(1);
    expect(run(p, "b", "rw", 1, 3)).toBe(0);
    expect(run(p, "c", "r", 1, 7)).toBe(0);
  });

  it("a deny-list refuses any overlap with a denied access", () => {
    const p = prog([rule(true, "a"), rule(false, "c", 1, 5, "w"), rule(false, "b", 8)]);
    expect(run(p, "c", "r", 1, 5)).toBe(1);
    expect(run(p, "c", "rw", 1, 5)).toBe(0);
    expect(run(p, "b", "r", 8, 1)).toBe(0);
    expect(run(p, "c", "r", 8, 1)).toBe(1);
  });

  it("encodes 8-byte instructions ending in exit", () => {
    const p = prog([]);
    expect(p.length % 8).toBe(0);
    expect(p.readUInt8(p.length - 8)).toBe(0x95);
    expect(run(p, "b", "m", 7, 0)).toBe(1);
  });
});
