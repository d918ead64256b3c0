import { type RawTermios, sysCfmakeraw, sysTcgetattr, sysTcsetattr } from "./libc.js";

/** A terminal's settings, as glibc's `struct termios`. */
export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  line: number;
  /** Control characters, NCCS (32) entries. */
  cc: number[];
  ispeed: number;
  ospeed: number;
}

// Flag bits (asm-generic Linux values).
export const OPOST = 0o1;
export const ONLCR = 0o4;
export const ECHO = 0o10;
export const ICANON = 0o2;
export const ISIG = 0o1;
export const IEXTEN = 0o100000;
export const ICRNL = 0o400;
export const IXON = 0o2000;

function fromRaw(t: RawTermios): Termios {
  return {
    iflag: t.c_iflag,
    oflag: t.c_oflag,
    cflag: t.c_cflag,
    lflag: t.c_lflag,
    line: t.c_line,
    cc: [...t.c_cc],
    ispeed: t.c_ispeed,
    ospeed: t.c_ospeed,
  };
}

function toRaw(t: Termios): RawTermios {
  return {
    c_iflag: t.iflag,
    c_oflag: t.oflag,
    c_cflag: t.cflag,
    c_lflag: t.lflag,
    c_line: t.line,
    c_cc: [...t.cc],
    c_ispeed: t.ispeed,
    c_ospeed: t.ospeed,
  };
}

/** tcgetattr(3); throws ConsoleError (ENOTTY when `fd` is not a terminal). */
export function getTermios(fd: number, path?: string): Termios {
  return fromRaw(sysTcgetattr(fd, path));
}

/** tcsetattr(3) with TCSANOW: TCSADRAIN could wait forever on a pty nobody reads. */
export function setTermios(fd: number, t: Termios, path?: string): void {
  sysTcsetattr(fd, toRaw(t), path);
}

/** cfmakeraw(3), then output processing back on so `\n` still becomes `\r\n` on the host terminal. */
export function makeRaw(t: Termios): Termios {
  const raw = fromRaw(sysCfmakeraw(toRaw(t)));
  raw.oflag |= OPOST;
  return raw;
}

export function copyTermios(t: Termios): Termios {
  return { ...t, cc: [...t.cc] };
}
