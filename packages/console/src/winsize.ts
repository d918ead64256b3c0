import type { Console } from "./console.js";
import { sysIoctl, TIOCGWINSZ, TIOCSWINSZ } from "./libc.js";

/** A terminal's size in characters, and optionally in pixels. */
export interface WinSize {
  rows: number;
  cols: number;
  xpixel?: number;
  ypixel?: number;
}

// struct winsize is four unsigned shorts: rows, cols, xpixel, ypixel.
const WINSIZE_BYTES = 8;

export function getWinSize(fd: number, path?: string): WinSize {
  const buf = Buffer.alloc(WINSIZE_BYTES);
  sysIoctl(fd, TIOCGWINSZ, "TIOCGWINSZ", buf, path);
  return {
    rows: buf.readUInt16LE(0),
    cols: buf.readUInt16LE(2),
    xpixel: buf.readUInt16LE(4),
    ypixel: buf.readUInt16LE(6),
  };
}

function field(ws: WinSize, key: keyof WinSize): number {
  const v = ws[key] ?? 0;
  // The kernel stores unsigned shorts; anything else would be silently truncated.
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new RangeError(`resize: ${key} must be an integer from 0 to 65535, got ${v}`);
  }
  return v;
}

export function setWinSize(fd: number, ws: WinSize, path?: string): void {
  const buf = Buffer.alloc(WINSIZE_BYTES);
  buf.writeUInt16LE(field(ws, "rows"), 0);
  buf.writeUInt16LE(field(ws, "cols"), 2);
  buf.writeUInt16LE(field(ws, "xpixel"), 4);
  buf.writeUInt16LE(field(ws, "ypixel"), 6);
  sysIoctl(fd, TIOCSWINSZ, "TIOCSWINSZ", buf, path);
}

export interface WindowSizeFollower {
  stop(): void;
}

/**
 * Copies `from`'s size to `to` now and on every SIGWINCH until stop(). The first copy throws on
 * failure; later ones run from a signal and stop following instead (a closed console ends it).
 */
export function followWindowSize(from: Console, to: Console): WindowSizeFollower {
  to.resizeFrom(from);
  const onWinch = (): void => {
    try {
      to.resizeFrom(from);
    } catch {
      stop();
    }
  };
  const stop = (): void => {
    process.removeListener("SIGWINCH", onWinch);
  };
  // Node's signal watchers are unref'd, so following never keeps the process alive.
  process.on("SIGWINCH", onWinch);
  return { stop };
}
