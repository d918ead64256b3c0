import { describe, expect, it } from "vitest";
import { CAPABILITIES, capMask, capMasks } from "./capabilities.js";

describe("capabilities", () => {
  it("numbers them as linux/capability.h", () => {
    expect(CAPABILITIES.CAP_CHOWN).toBe(0);
    expect(CAPABILITIES.CAP_KILL).toBe(5);
    expect(CAPABILITIES.CAP_NET_BIND_SERVICE).toBe(10);
    expect(CAPABILITIES.CAP_SYS_ADMIN).toBe(21);
    expect(CAPABILITIES.CAP_AUDIT_WRITE).toBe(29);
    expect(CAPABILITIES.CAP_CHECKPOINT_RESTORE).toBe(40);
    expect(Object.keys(CAPABILITIES)).toHaveLength(41);
  });

  it("builds masks", () => {
    // runc's default set: what /proc/<pid>/status shows as CapBnd 0000000020000420 in its container
    expect(capMask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])).toBe(0x20000420n);
    expect(capMask(["CAP_CHOWN"])).toBe(1n);
    expect(capMask(["CAP_BPF"])).toBe(1n << 39n);
    expect(capMask(undefined)).toBe(0n);
    expect(() => capMask(["CAP_FOO"])).toThrow("unknown capability CAP_FOO");
  });

  it("keeps ambient to what is permitted and inheritable, and drops caps the kernel lacks", () => {
    const m = capMasks(
      {
        bounding: ["CAP_KILL", "CAP_CHECKPOINT_RESTORE"],
        effective: ["CAP_KILL"],
        permitted: ["CAP_KILL", "CAP_CHOWN"],
        inheritable: ["CAP_CHOWN"],
        ambient: ["CAP_KILL", "CAP_CHOWN"],
      },
      39,
    );
    expect(m).toEqual({
      bounding: 1n << 5n,
      effective: 1n << 5n,
      permitted: 0x21n,
      inheritable: 1n,
      ambient: 1n,
    });
  });
});
