import { constants as fsConstants } from "node:fs";
import koffi from "koffi";
import { ConsoleError } from "./errors.js";

// The ioctl numbers and open flags below are the asm-generic Linux values. Architectures with their
// own ioctl encoding (powerpc, mips, sparc, alpha) would need another table, so they are refused.
const GENERIC_ARCHES = new Set(["x64", "arm64", "arm", "ia32", "riscv64", "loong64"]);

export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;

export const O_RDWR = fsConstants.O_RDWR;
export const O_WRONLY = fsConstants.O_WRONLY;
export const O_NOCTTY = fsConstants.O_NOCTTY;
export const O_NONBLOCK = fsConstants.O_NONBLOCK;
export const O_CLOEXEC = 0o2000000;

const F_DUPFD_CLOEXEC = 1030;
const F_GETFL = 3;
const F_SETFL = 4;
export const TCSANOW = 0;

/** glibc's `struct termios` (NCCS 32, with speed fields), not the kernel's smaller one that TCGETS uses. */
export interface RawTermios {
  c_iflag: number;
  c_oflag: number;
  c_cflag: number;
  c_lflag: number;
  c_line: number;
  c_cc: number[];
  c_ispeed: number;
  c_ospeed: number;
}

interface Libc {
  open: (path: string, flags: number, ...mode: unknown[]) => number;
  close: (fd: number) => number;
  ioctl: (fd: number, request: number, ...arg: unknown[]) => number;
  fcntl: (fd: number, cmd: number, ...arg: unknown[]) => number;
  tcgetattr: (fd: number, out: Partial<RawTermios>) => number;
  tcsetattr: (fd: number, when: number, t: RawTermios) => number;
  cfmakeraw: (t: RawTermios) => void;
}

let libc: Libc | undefined;

// Loaded on first use so that importing the package does no FFI work (and stays side-effect free).
function lib(): Libc {
  if (libc) return libc;
  if (process.platform !== "linux" || !GENERIC_ARCHES.has(process.arch)) {
    throw new ConsoleError("load libc", {
      message: `load libc: unsupported platform ${process.platform}/${process.arch}`,
    });
  }
  const c = koffi.load("libc.so.6");
  // Anonymous types: a named koffi type is process-global and would clash with another copy of this package.
  const termios = koffi.struct({
    c_iflag: "uint32_t",
    c_oflag: "uint32_t",
    c_cflag: "uint32_t",
    c_lflag: "uint32_t",
    c_line: "uint8_t",
    c_cc: koffi.array("uint8_t", 32, "Array"),
    c_ispeed: "uint32_t",
    c_ospeed: "uint32_t",
  });
  const ptr = koffi.pointer(termios);
  libc = {
    open: c.func("open", "int", ["const char *", "int", "..."]),
    close: c.func("close", "int", ["int"]),
    ioctl: c.func("ioctl", "int", ["int", "unsigned long", "..."]),
    fcntl: c.func("fcntl", "int", ["int", "int", "..."]),
    tcgetattr: c.func("tcgetattr", "int", ["int", koffi.out(ptr)]),
    tcsetattr: c.func("tcsetattr", "int", ["int", "int", ptr]),
    cfmakeraw: c.func("cfmakeraw", "void", [koffi.inout(ptr)]),
  };
  return libc;
}

function fail(op: string, path: string | undefined): never {
  const errno = koffi.errno();
  throw new ConsoleError(op, path === undefined ? { errno } : { path, errno });
}

export function sysOpen(path: string, flags: number): number {
  const fd = lib().open(path, flags, "int", 0);
  if (fd < 0) fail("open", path);
  return fd;
}

export function sysClose(fd: number, path?: string): void {
  // close() releases the fd even when it reports EINTR or EIO, so it is never retried.
  if (lib().close(fd) < 0) fail("close", path);
}

/** ioctl with a pointer argument; `buf` is read or filled by the kernel. */
export function sysIoctl(fd: number, request: number, name: string, buf: Buffer, path?: string): void {
  if (lib().ioctl(fd, request, "void *", buf) < 0) fail(`ioctl ${name}`, path);
}

/** Duplicates `fd` onto the lowest free number ≥ 3, close-on-exec. */
export function sysDupCloexec(fd: number, path?: string): number {
  const r = lib().fcntl(fd, F_DUPFD_CLOEXEC, "int", 3);
  if (r < 0) fail("fcntl F_DUPFD_CLOEXEC", path);
  return r;
}

export function getFileFlags(fd: number, path?: string): number {
  const r = lib().fcntl(fd, F_GETFL, "int", 0);
  if (r < 0) fail("fcntl F_GETFL", path);
  return r;
}

export function setFileFlags(fd: number, flags: number, path?: string): void {
  if (lib().fcntl(fd, F_SETFL, "int", flags) < 0) fail("fcntl F_SETFL", path);
}

export function sysTcgetattr(fd: number, path?: string): RawTermios {
  const out: Partial<RawTermios> = {};
  if (lib().tcgetattr(fd, out) < 0) fail("tcgetattr", path);
  return out as RawTermios;
}

export function sysTcsetattr(fd: number, t: RawTermios, path?: string): void {
  if (lib().tcsetattr(fd, TCSANOW, t) < 0) fail("tcsetattr", path);
}

/** glibc's cfmakeraw on a copy of `t`. */
export function sysCfmakeraw(t: RawTermios): RawTermios {
  const copy = { ...t, c_cc: [...t.c_cc] };
  lib().cfmakeraw(copy);
  return copy;
}
