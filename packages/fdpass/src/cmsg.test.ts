import { describe, expect, it } from "vitest";
import { cmsgLen, cmsgSpace, parseRights, rightsSpace, writeRights } from "./cmsg.js";

describe("cmsg layout (x86_64)", () => {
  it("matches glibc's CMSG_LEN and CMSG_SPACE", () => {
    // Values printed by a C program with <sys/socket.h> on x86_64.
    expect(cmsgLen(4)).toBe(20);
    expect(cmsgSpace(4)).toBe(24);
    expect(cmsgSpace(8)).toBe(24);
    expect(cmsgSpace(12)).toBe(32);
    expect(rightsSpace(0)).toBe(16);
    expect(rightsSpace(253)).toBe(16 + 1016);
  });

  it("round-trips fds through writeRights and parseRights", () => {
    const control = Buffer.alloc(rightsSpace(3));
    const used = writeRights(control, [7, 8, 9]);
    expect(used).toBe(32);
    expect(control.readBigUInt64LE(0)).toBe(28n);
    expect(parseRights(control, used)).toEqual({ fds: [7, 8, 9], rightsMessages: 1, malformed: false });
  });

  it("flags a header that claims more than the buffer holds, keeping the fds before it", () => {
    const control = Buffer.alloc(48);
    writeRights(control, [5]);
    control.writeBigUInt64LE(999n, 24);
    expect(parseRights(control, 48)).toEqual({ fds: [5], rightsMessages: 1, malformed: true });
  });

  it("skips control messages that are not SCM_RIGHTS", () => {
    const control = Buffer.alloc(56);
    // An SCM_CREDENTIALS message (type 2, 12 bytes of data) before the rights.
    control.writeBigUInt64LE(28n, 0);
    control.writeInt32LE(1, 8);
    control.writeInt32LE(2, 12);
    writeRights(control.subarray(32), [4]);
    expect(parseRights(control, 56)).toEqual({ fds: [4], rightsMessages: 1, malformed: false });
  });
});
