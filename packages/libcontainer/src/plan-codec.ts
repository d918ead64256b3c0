// The bytes of the executor protocol (native/protocol.h): the FRAME_PLAN payload, frame headers, and a reader that
// cuts a stream into frames. Little-endian throughout; change together with protocol.h.
import type { Plan } from "./plan.js";

/** Frame types, as in native/protocol.h. */
export const FrameType = {
  /** tsrun -> exec: the plan, sent once, first. */
  Plan: 1,
  /** tsrun -> exec: answers Sync; a non-empty payload becomes the stdin of later hooks. */
  Ok: 2,
  /** tsrun -> exec: answers Sync; the executor exits 1 without another frame. */
  Abort: 3,
  /** exec -> tsrun: u32 pid of the container's init (host pid namespace), right after the clone. */
  Pid: 10,
  /** exec -> tsrun: a label from OP_SYNC; the executor waits for Ok or Abort. */
  Sync: 11,
  /** exec -> tsrun: "<what failed>: <strerror>"; the executor exits right after. */
  Error: 12,
  /** exec -> tsrun: a debug line (with _TSRUN_LOGLEVEL=debug). */
  Log: 13,
  /** exec -> tsrun: u32 fd number of a seccomp listener in the init; the executor waits for Ok or Abort. */
  SeccompFd: 14,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: number;
  payload: Buffer;
}

const HEADER = 8;
/** The executor refuses larger frames; so do we, rather than buffering without end. */
export const MAX_FRAME = 64 << 20;

/** One frame: u32 type, u32 length, payload. */
export function encodeFrame(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(type, 0);
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** The FRAME_PLAN payload: per op u16 opcode, u16 argc, then per arg u32 length and bytes (i64 LE for bigints). */
export function encodePlan(plan: Plan): Buffer {
  // This runs once per command, cold, in V8's interpreter, where each of Node's Buffer.write* (JavaScript with
  // argument checks) costs microseconds: numbers go through a DataView (V8 builtins), and the strings, nearly always
  // ASCII, are converted to bytes in one call.
  const strings: string[] = [];
  let size = 0;
  for (const op of plan) {
    if (op.args.length > 0xffff) throw new RangeError(`plan: op ${op.code} has too many arguments`);
    size += 4;
    for (const arg of op.args) {
      if (typeof arg === "bigint") size += 12;
      else if (Buffer.isBuffer(arg)) size += 4 + arg.length;
      else {
        strings.push(arg);
        size += 4;
      }
    }
  }
  const joined = strings.join("");
  // The executor NUL-terminates strings; an embedded NUL would cut a path short, so refuse it here.
  if (joined.includes("\0")) {
    const bad = plan.find((op) => op.args.some((a) => typeof a === "string" && a.includes("\0")));
    throw new TypeError(`plan: op ${bad?.code}: string argument contains a NUL byte`);
  }
  const ascii = !/[\u0080-\uffff]/.test(joined);
  // A plain Uint8Array: its subarray is a V8 builtin, a Buffer's goes through Node's constructor each time.
  const all = ascii ? new Uint8Array(Buffer.from(joined, "latin1")) : undefined;
  const utf8 = ascii ? [] : strings.map((x) => Buffer.from(x));
  size += all ? all.length : utf8.reduce((n, b) => n + b.length, 0);
  const out = Buffer.allocUnsafe(size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  let off = 0;
  let at = 0; // in `all`
  let k = 0; // in `utf8`
  const bytes = (b: Uint8Array) => {
    view.setUint32(off, b.length, true);
    out.set(b, off + 4);
    off += 4 + b.length;
  };
  for (const op of plan) {
    view.setUint16(off, op.code, true);
    view.setUint16(off + 2, op.args.length, true);
    off += 4;
    for (const arg of op.args) {
      if (typeof arg === "bigint") {
        view.setUint32(off, 8, true);
        // Negative values (-1n = RLIM_INFINITY) go as two's complement; both signednesses fit in 64 bits.
        view.setBigUint64(off + 4, BigInt.asUintN(64, arg), true);
        off += 12;
      } else if (Buffer.isBuffer(arg)) {
        bytes(arg); // binary (a BPF program): NULs are fine, the executor reads it by length
      } else if (all) {
        bytes(all.subarray(at, at + arg.length));
        at += arg.length;
      } else {
        bytes(utf8[k++]!);
      }
    }
  }
  return out;
}

/** Cuts a byte stream (chunks from a net.Socket, split anywhere) into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Adds a chunk; returns every frame it completes, in order. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= HEADER) {
      const len = this.buf.readUInt32LE(4);
      if (len > MAX_FRAME) throw new RangeError(`frame of ${len} bytes exceeds the ${MAX_FRAME}-byte limit`);
      if (this.buf.length < HEADER + len) break;
      frames.push({
        type: this.buf.readUInt32LE(0),
        payload: Buffer.from(this.buf.subarray(HEADER, HEADER + len)),
      });
      this.buf = this.buf.subarray(HEADER + len);
    }
    return frames;
  }

  /** Bytes of an incomplete frame still held; non-zero at EOF means the peer died mid-frame. */
  get pending(): number {
    return this.buf.length;
  }
}
