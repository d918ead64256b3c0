// Control-message layout for SCM_RIGHTS, computed by hand because koffi has no CMSG_* macros.
// Linux x86_64 and arm64: struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; }
// is 16 bytes, and every control message starts on an 8-byte (sizeof(size_t)) boundary.
import { SCM_RIGHTS, SOL_SOCKET } from "./libc.js";

const ALIGN = 8;
export const CMSG_HDR_LEN = 16;
const INT_SIZE = 4;

export function cmsgAlign(len: number): number {
  return (len + ALIGN - 1) & ~(ALIGN - 1);
}

/** CMSG_LEN: the cmsg_len value for `dataLen` bytes of data. */
export function cmsgLen(dataLen: number): number {
  return cmsgAlign(CMSG_HDR_LEN) + dataLen;
}

/** CMSG_SPACE: the bytes one control message with `dataLen` bytes of data occupies. */
export function cmsgSpace(dataLen: number): number {
  return cmsgAlign(CMSG_HDR_LEN) + cmsgAlign(dataLen);
}

/** The control-buffer size that has room for `count` fds in one SCM_RIGHTS message. */
export function rightsSpace(count: number): number {
  return cmsgSpace(count * INT_SIZE);
}

/** Writes one SCM_RIGHTS message carrying `fds` at the start of `control`. */
export function writeRights(control: Buffer, fds: readonly number[]): number {
  const len = cmsgLen(fds.length * INT_SIZE);
  control.fill(0, 0, cmsgSpace(fds.length * INT_SIZE));
  control.writeBigUInt64LE(BigInt(len), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((fd, i) => {
    control.writeInt32LE(fd, CMSG_HDR_LEN + i * INT_SIZE);
  });
  return cmsgSpace(fds.length * INT_SIZE);
}

export interface ParsedControl {
  /** Every fd found in SCM_RIGHTS messages, in order. They are open in this process now. */
  fds: number[];
  /** Number of SCM_RIGHTS messages seen. */
  rightsMessages: number;
  /** Whether a header was inconsistent with the buffer (never produced by a sane kernel). */
  malformed: boolean;
}

/**
 * Walks the control messages the kernel wrote into `control[0, controlLen)` and collects
 * every SCM_RIGHTS fd. It keeps going past anything unexpected, because each fd it misses
 * would leak: the kernel has already installed them in our fd table.
 */
export function parseRights(control: Buffer, controlLen: number): ParsedControl {
  const out: ParsedControl = { fds: [], rightsMessages: 0, malformed: false };
  const end = Math.min(controlLen, control.length);
  let off = 0;
  while (off + CMSG_HDR_LEN <= end) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < CMSG_HDR_LEN || off + len > end) {
      out.malformed = true;
      break;
    }
    const level = control.readInt32LE(off + 8);
    const type = control.readInt32LE(off + 12);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      out.rightsMessages++;
      const count = Math.floor((len - CMSG_HDR_LEN) / INT_SIZE);
      for (let i = 0; i < count; i++) out.fds.push(control.readInt32LE(off + CMSG_HDR_LEN + i * INT_SIZE));
    }
    off += cmsgAlign(len);
  }
  return out;
}
