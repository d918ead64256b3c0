// The only place that touches cgroup files. Writes open existing files only (O_WRONLY|O_TRUNC, no O_CREAT): a
// missing file means a missing controller or kernel feature, and in the test trees creating it would hide that.

import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { posix } from "node:path";
import { CgroupError, errnoOf } from "./errors.js";

// libuv opens every file close-on-exec.
const WRITE_FLAGS = constants.O_WRONLY | constants.O_TRUNC;

export function writeValue(dir: string, file: string, value: string): void {
  const path = posix.join(dir, file);
  try {
    const fd = openSync(path, WRITE_FLAGS);
    try {
      // One write(2): the kernel parses each write as a whole value.
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errnoOf(err);
    throw new CgroupError(`write ${value} to ${path}: ${code}`, code, { cause: err });
  }
}

export function readValue(dir: string, file: string): string {
  const path = posix.join(dir, file);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = errnoOf(err);
    throw new CgroupError(`read ${path}: ${code}`, code, { cause: err });
  }
}

/** The file's content, or undefined when it does not exist. */
export function readIfExists(dir: string, file: string): string | undefined {
  try {
    return readFileSync(posix.join(dir, file), "utf8");
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw new CgroupError(`read ${posix.join(dir, file)}: ${errnoOf(err)}`, errnoOf(err), { cause: err });
  }
}

export function exists(dir: string, file: string): boolean {
  return existsSync(posix.join(dir, file));
}

export function mkdir(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (err) {
    if (errnoOf(err) === "EEXIST") return false;
    throw new CgroupError(`mkdir ${dir}: ${errnoOf(err)}`, errnoOf(err), { cause: err });
  }
}

/** Writes a pid to cgroup.procs. EINVAL can mean the task is still being forked (TASK_NEW): retry briefly. */
export function writePid(dir: string, pid: number): void {
  for (let attempt = 0; ; attempt++) {
    try {
      writeValue(dir, "cgroup.procs", String(pid));
      return;
    } catch (err) {
      if (!(err instanceof CgroupError) || err.code !== "EINVAL" || attempt >= 4) throw err;
      sleepMs(30);
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** A synchronous sleep: the manager's API is synchronous, like the kernel interface it drives. */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
