import { describe, expect, it } from "vitest";
import { runBpf } from "./bpf-run.js";
import { encode, enosysStub, type LastSyscalls } from "./enosys.js";

const ALLOW = 0x7fff0000;
const ENOSYS = 0x00050000 + 38;
const X86_64 = 0xc000003e;
const X32_TOKEN = 0x4000003e;
const X32_BIT = 0x40000000;
const allowAll = encode([{ code: 0x06, jt: 0, jf: 0, k: ALLOW }]);

describe("enosysStub", () => {
  it("stays correct when jumps need the long forms (more than 255 instructions)", () => {
    const last: LastSyscalls = new Map();
    // 80 made-up architectures, then x86_64 with x32 last, so its section sits farthest from the ENOSYS return.
    for (let i = 0; i < 80; i++) last.set(0x1000 + i, new Map([[0x1000 + i, 100 + i]]));
    last.set(
      X86_64,
      new Map([
        [X86_64, 300],
        [X32_TOKEN, 200 | X32_BIT],
      ]),
    );
    const stub = enosysStub(last);
    expect(stub.length).toBeGreaterThan(300);
    const p = Buffer.concat([encode(stub), allowAll]);
    for (const i of [0, 40, 79]) {
      expect(runBpf(p, { nr: 100 + i, arch: 0x1000 + i })).toBe(ALLOW);
      expect(runBpf(p, { nr: 101 + i, arch: 0x1000 + i })).toBe(ENOSYS);
    }
    expect(runBpf(p, { nr: 300, arch: X86_64 })).toBe(ALLOW);
    expect(runBpf(p, { nr: 301, arch: X86_64 })).toBe(ENOSYS);
    expect(runBpf(p, { nr: 200 | X32_BIT, arch: X86_64 })).toBe(ALLOW);
    expect(runBpf(p, { nr: 201 | X32_BIT, arch: X86_64 })).toBe(ENOSYS);
    // An architecture the stub does not know goes straight to the filter.
    expect(runBpf(p, { nr: 5000, arch: 0x9999 })).toBe(ALLOW);
  });

  it("single-ABI x86 sections let the other ABI through to the filter", () => {
    for (const [token, nr, other] of [
      [X86_64, 50, 60 | X32_BIT],
      [X32_TOKEN, 50 | X32_BIT, 60],
    ] as const) {
      const p = Buffer.concat([encode(enosysStub(new Map([[X86_64, new Map([[token, nr]])]]))), allowAll]);
      expect(runBpf(p, { nr: nr + 1, arch: X86_64 })).toBe(ENOSYS);
      expect(runBpf(p, { nr, arch: X86_64 })).toBe(ALLOW);
      expect(runBpf(p, { nr: other, arch: X86_64 })).toBe(ALLOW);
    }
  });
});
