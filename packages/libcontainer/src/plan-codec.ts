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
  const parts: Buffer[] = [];
  for (const op of plan) {
    if (op.args.length > 0xffff) throw new RangeError(`plan: op ${op.code} has too many arguments`);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(op.code, 0);
    head.writeUInt16LE(op.args.length, 2);
    parts.push(head);
    for (const arg of op.args) {
      let bytes: Buffer;
      if (typeof arg === "bigint") {
        bytes = Buffer.alloc(8);
        // Negative values (-1n = RLIM_INFINITY) go as two's complement; both signednesses fit in 64 bits.
        bytes.writeBigUInt64LE(BigInt.asUintN(64, arg), 0);
      } else if (Buffer.isBuffer(arg)) {
        bytes = arg; // binary (a BPF program): NULs are fine, the executor reads it by length
      } else {
        bytes = Buffer.from(arg);
        // The executor NUL-terminates strings; an embedded NUL would cut a path short, so refuse it here.
        if (bytes.includes(0))
          throw new TypeError(`plan: op ${op.code}: string argument contains a NUL byte`);
      }
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length, 0);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
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
