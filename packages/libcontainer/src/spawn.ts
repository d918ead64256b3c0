// posix_spawn(3) through koffi, for the executor. node:child_process would cost every create and exec about
// 5 ms before the executor even runs: loading child_process and node:net, and libuv's fork of a process as big as
// Node. glibc's posix_spawn clones with CLONE_VM|CLONE_VFORK (no page tables copied) and is safe in a
// multi-threaded process, as libuv's own spawn is.
import { closeSync, openSync } from "node:fs";
import koffi from "koffi";
import { SyscallError } from "./syscall-error.js";

// glibc's flags (spawn.h).
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const F_DUPFD_CLOEXEC = 1030;
// Opaque glibc objects, over-allocated: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128.
const FILE_ACTIONS_SIZE = 256;
const ATTR_SIZE = 512;
const SIGSET_SIZE = 128;

type Fn = (...args: unknown[]) => number;
let c:
  | Record<
      | "spawn"
      | "faInit"
      | "faDup2"
      | "faDestroy"
      | "faCloseFrom"
      | "atInit"
      | "atFlags"
      | "atMask"
      | "atDefault"
      | "atDestroy"
      | "sigfill"
      | "sigempty"
      | "fcntl"
      | "close",
      Fn
    >
  | undefined;

/** glibc 2.34 added closefrom to posix_spawn; before it, fds a caller left open are the program's to close. */
function closeFrom(lib: ReturnType<typeof koffi.load>): Fn {
  try {
    return lib.func("int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)");
  } catch {
    return () => 0;
  }
}

function libc(): NonNullable<typeof c> {
  if (!c) {
    const lib = koffi.load("libc.so.6");
    c = {
      spawn: lib.func(
        "int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)",
      ),
      faInit: lib.func("int posix_spawn_file_actions_init(void *fa)"),
      faDup2: lib.func("int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)"),
      faDestroy: lib.func("int posix_spawn_file_actions_destroy(void *fa)"),
      faCloseFrom: closeFrom(lib),
      atInit: lib.func("int posix_spawnattr_init(void *attr)"),
      atFlags: lib.func("int posix_spawnattr_setflags(void *attr, short flags)"),
      atMask: lib.func("int posix_spawnattr_setsigmask(void *attr, void *set)"),
      atDefault: lib.func("int posix_spawnattr_setsigdefault(void *attr, void *set)"),
      atDestroy: lib.func("int posix_spawnattr_destroy(void *attr)"),
      sigfill: lib.func("int sigfillset(void *set)"),
      sigempty: lib.func("int sigemptyset(void *set)"),
      fcntl: lib.func("int fcntl(int fd, int cmd, ...)"),
      close: lib.func("int close(int fd)"),
    };
  }
  return c;
}

/** A source for one of the child's fds: one of ours, ours at the same number, or /dev/null. */
export type FdSource = number | "inherit" | "ignore";

export interface SpawnOptions {
  /** argv[0] */
  argv0: string;
  /** argv[1..] */
  args?: string[];
  env: Record<string, string>;
  /** fds[i] becomes the child's fd i; no other fd of ours reaches the child (but a program given as an fd). */
  fds: FdSource[];
}

/**
 * Starts `path` with exactly the fds asked for, every signal at its default and none blocked (Node ignores
 * SIGPIPE, and an ignored signal would survive the exec). Returns the pid; reaping it is the caller's job.
 */
export function spawnProcess(program: string | { fd: number }, opts: SpawnOptions): number {
  const l = libc();
  // Every source is first dup'ed above the highest target, so placing one can never clobber another.
  const floor = Math.max(opts.fds.length + 1, 3) + 10;
  const temps: number[] = [];
  let devnull = -1;
  const fa = Buffer.alloc(FILE_ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  let faReady = false;
  let attrReady = false;
  try {
    // A program given as an fd (a sealed memfd) runs as /proc/self/fd/K, so the child keeps it at K, right after
    // the fds asked for. dup2 leaves it without close-on-exec: such a program must close what it does not need
    // (tsrun-exec marks every fd above its channels close-on-exec first thing).
    const sources: FdSource[] = typeof program === "string" ? opts.fds : [...opts.fds, program.fd];
    const path = typeof program === "string" ? program : `/proc/self/fd/${opts.fds.length}`;
    sources.forEach((src, target) => {
      let from: number;
      if (src === "ignore") {
        if (devnull < 0) devnull = openSync("/dev/null", "r+");
        from = devnull;
      } else from = src === "inherit" ? target : src;
      const tmp = l.fcntl(from, F_DUPFD_CLOEXEC, "int", floor);
      if (tmp < 0) throw new SyscallError("fcntl F_DUPFD_CLOEXEC", koffi.errno(), `fd ${from}`);
      temps.push(tmp);
    });
    if (l.faInit(fa) !== 0) throw new SyscallError("posix_spawn_file_actions_init", koffi.errno());
    faReady = true;
    temps.forEach((tmp, target) => {
      const err = l.faDup2(fa, tmp, target);
      if (err !== 0) throw new SyscallError("posix_spawn_file_actions_adddup2", err, `fd ${target}`);
    });
    // Node marks its own fds close-on-exec, but not what its caller left open without the flag.
    const closeErr = l.faCloseFrom(fa, sources.length);
    if (closeErr !== 0) throw new SyscallError("posix_spawn_file_actions_addclosefrom_np", closeErr);
    if (l.atInit(attr) !== 0) throw new SyscallError("posix_spawnattr_init", koffi.errno());
    attrReady = true;
    const all = Buffer.alloc(SIGSET_SIZE);
    const none = Buffer.alloc(SIGSET_SIZE);
    l.sigfill(all);
    l.sigempty(none);
    l.atDefault(attr, all);
    l.atMask(attr, none);
    l.atFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    const env = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
    const pid = [0];
    const err = l.spawn(pid, path, fa, attr, [opts.argv0, ...(opts.args ?? []), null], [...env, null]);
    if (err !== 0) throw new SyscallError("posix_spawn", err, path);
    return pid[0]!;
  } finally {
    if (faReady) l.faDestroy(fa);
    if (attrReady) l.atDestroy(attr);
    for (const fd of temps) l.close(fd);
    if (devnull >= 0) closeSync(devnull);
  }
}
