import { constants } from "node:os";

const names = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** A failed system call: `mkfifo /run/tsrun/x/exec.fifo: EEXIST`. */
export class SyscallError extends Error {
  readonly code: string;
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly path?: string,
  ) {
    const code = names.get(errno) ?? `errno ${errno}`;
    super(`${syscall}${path ? ` ${path}` : ""}: ${code}`);
    this.name = "SyscallError";
    this.code = code;
  }
}
