import { describe, expect, it } from "vitest";
import { type Op, OpCode, op } from "./plan.js";
import { encodeFrame, encodePlan, FrameReader, FrameType } from "./plan-codec.js";

describe("encodePlan", () => {
  it("encodes opcodes, argc, strings and 8-byte integers little-endian", () => {
    const bytes = encodePlan([op.sethostname("ab"), op.umask(0o22), op.setsid(), op.rlimit(7, -1n, 1024n)]);
    // biome-ignore format: one line per op shows the layout
    const expected = Buffer.from([
      // sethostname (33), 1 arg, "ab"
      33, 0, 1, 0, 2, 0, 0, 0, 0x61, 0x62,
      // umask (40), 1 arg, i64 0o22
      40, 0, 1, 0, 8, 0, 0, 0, 0x12, 0, 0, 0, 0, 0, 0, 0,
      // setsid (22), no args
      22, 0, 0, 0,
      // rlimit (39), 3 args: 7, -1, 1024
      39, 0, 3, 0, 8, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      8, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0,
    ]);
    expect(bytes.equals(expected)).toBe(true);
  });

  it("encodes lists as a count then the strings", () => {
    const bytes = encodePlan([op.exec("sh", ["sh"], [])]);
    // biome-ignore format: one line per field shows the layout
    const want = [
      OpCode.Exec, 0, 4, 0,
      2, 0, 0, 0, 0x73, 0x68,
      8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
      2, 0, 0, 0, 0x73, 0x68,
      8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    expect([...bytes]).toEqual(want);
  });

  it("encodes UTF-8 strings by bytes and an empty plan as nothing", () => {
    expect(encodePlan([op.chdir("é")]).subarray(4)).toEqual(Buffer.from([2, 0, 0, 0, 0xc3, 0xa9]));
    expect(encodePlan([]).length).toBe(0);
  });

  it("lays out strings, binary and integers in any mix the same way on its ASCII and UTF-8 paths", () => {
    // A plain reference encoder: per op u16 code, u16 argc, per arg u32 length and bytes.
    const reference = (plan: Op[]) =>
      Buffer.concat(
        plan.flatMap((o) => [
          Buffer.from([o.code & 0xff, o.code >> 8, o.args.length & 0xff, o.args.length >> 8]),
          ...o.args.flatMap((a) => {
            const b =
              typeof a === "bigint"
                ? Buffer.from(BigInt.asUintN(64, a).toString(16).padStart(16, "0"), "hex").reverse()
                : Buffer.isBuffer(a)
                  ? a
                  : Buffer.from(a);
            const len = Buffer.alloc(4);
            len.writeUInt32LE(b.length);
            return [len, b];
          }),
        ]),
      );
    const mixed = (name: string): Op[] => [
      { code: OpCode.Seccomp, args: [Buffer.from([0, 1, 2, 0]), 3n] },
      { code: OpCode.Mount, args: ["/dev", name, "", -1n, "x"] },
      { code: OpCode.Umask, args: [] },
    ];
    for (const name of ["null", "nüll", "日本"])
      expect(encodePlan(mixed(name))).toEqual(reference(mixed(name)));
  });

  it("refuses a string with a NUL byte", () => {
    expect(() => encodePlan([op.chdir("a\0b")])).toThrow(/NUL/);
  });
});

describe("frames", () => {
  it("encodes a header of type and length", () => {
    expect([...encodeFrame(FrameType.Ok, "hi")]).toEqual([2, 0, 0, 0, 2, 0, 0, 0, 0x68, 0x69]);
    expect([...encodeFrame(FrameType.Ok)]).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("reassembles frames split across chunks at every byte", () => {
    const pid = Buffer.alloc(4);
    pid.writeUInt32LE(4242, 0);
    const stream = Buffer.concat([
      encodeFrame(FrameType.Pid, pid),
      encodeFrame(FrameType.Sync, "createRuntime"),
      encodeFrame(FrameType.Error, "mount proc on /proc: Operation not permitted"),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new FrameReader();
      const frames = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(frames.map((f) => f.type)).toEqual([FrameType.Pid, FrameType.Sync, FrameType.Error]);
      expect(frames[0]!.payload.readUInt32LE(0)).toBe(4242);
      expect(frames[1]!.payload.toString()).toBe("createRuntime");
      expect(frames[2]!.payload.toString()).toBe("mount proc on /proc: Operation not permitted");
      expect(reader.pending).toBe(0);
    }
  });

  it("delivers frames one byte at a time and keeps a partial frame pending", () => {
    const reader = new FrameReader();
    const bytes = encodeFrame(FrameType.Log, "x");
    const got = [];
    for (let k = 0; k < bytes.length - 1; k++) got.push(...reader.push(bytes.subarray(k, k + 1)));
    expect(got).toEqual([]);
    expect(reader.pending).toBe(bytes.length - 1);
    got.push(...reader.push(bytes.subarray(bytes.length - 1)));
    expect(got).toEqual([{ type: FrameType.Log, payload: Buffer.from("x") }]);
  });

  it("refuses a frame longer than the limit", () => {
    const header = Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(() => new FrameReader().push(header)).toThrow(/exceeds/);
  });
});
