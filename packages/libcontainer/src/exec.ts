// exec: a new process in a running container (runc's exec and setns init). The executor joins the init's
// namespaces and clones; the new process is tsrun's child (CLONE_PARENT), waits at a sync while tsrun puts it in
// the container's cgroups, then sets itself up and execs. Detached, tsrun exits once it has exec'd and the
// caller (a subreaper shim or conmon) inherits it; in the foreground tsrun relays, forwards signals and returns
// its exit status.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { consoleFromFd, current } from "@tsrun/console";
import { compileExecPlan, EXEC_SYNC_LABELS, namespacesToJoin } from "./compile-exec.js";
import { loadContainer } from "./container.js";
import { ContainerError, notExist } from "./container-error.js";
import { writePidFile } from "./create.js";
import { type ExecOverrides, execProcessFromConfig, readProcessFile } from "./exec-process.js";
import { startExecutor } from "./executor.js";
import { readText } from "./host-facts.js";
import * as libc from "./libc.js";
import { lockContainer } from "./lock.js";
import { attachForeground, forwardHeld, holdSignals } from "./run.js";
import { sendSeccompListener } from "./seccomp/notify.js";
import { RootfsResolver, readlink } from "./secure-join.js";
import type { Process, Spec } from "./spec.js";
import { CONFIG_FILE, containerDir, initAlive, sessionKeyringName } from "./state.js";
import { ociState } from "./state-json.js";
import { ioMode, type PreparedIo, prepareIo } from "./stdio.js";

export interface ExecOptions {
  root: string;
  id: string;
  /** --process FILE: the whole process; `overrides` are then ignored, as by runc. */
  processFile?: string;
  /** The command line's process (args, -e, -u, ...), applied to the config's process. */
  overrides?: ExecOverrides;
  consoleSocket?: string;
  pidFile?: string;
  detach: boolean;
  /** --preserve-fds: fds 3 .. 3+N-1 reach the process. */
  preserveFds?: number;
  ignorePaused?: boolean;
  debug?: boolean;
}

/**
 * The container's config as create read it (runc keeps it in its state too): every exec gets its seccomp filter,
 * umask and oom_score_adj from here, whatever the bundle's config.json says now. A container made by a tsrun that
 * did not save it falls back to the bundle's. Without either an exec could escape the filter: an error.
 */
function savedConfig(dir: string, bundle: string): Spec {
  const config = readSpec(join(dir, CONFIG_FILE)) ?? readSpec(join(bundle, "config.json"));
  if (!config) throw new ContainerError(`open ${join(bundle, "config.json")}: no such file or directory`);
  return config;
}

/** As runc, the base of a command-line exec is the process in the bundle's config.json as it is now. */
function bundleProcess(bundle: string): Spec["process"] {
  const config = readSpec(join(bundle, "config.json"));
  if (!config) throw new ContainerError("JSON specification file config.json not found");
  return config.process;
}

/** A config file, or undefined when there is none. */
function readSpec(path: string): Spec | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new ContainerError(`open ${path}: ${code}`);
  }
  try {
    return JSON.parse(text) as Spec;
  } catch (e) {
    throw new ContainerError(`${path}: ${(e as Error).message}`);
  }
}

/** /proc/sys/kernel/cap_last_cap: capabilities above it do not exist here. */
function lastCap(): number {
  try {
    return Number.parseInt(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8"), 10);
  } catch {
    return 40;
  }
}

/** Returns the exit code tsrun should exit with: the process's in the foreground, 0 detached. */
export async function execProcess(opts: ExecOptions): Promise<number> {
  // Shared with other execs and kills, and held only until the process is in the container's cgroup: a delete
  // waits for that (and kills it with the rest), never for a foreground process's whole life; and a resume is
  // not kept waiting by an --ignore-paused process that froze as it joined.
  const lock = await lockContainer(containerDir(opts.root, opts.id), "shared");
  if (!lock) throw notExist();
  let locked = true;
  const unlock = () => {
    if (locked) lock.release();
    locked = false;
  };
  const hold = opts.detach ? undefined : holdSignals();
  let held: NodeJS.Signals[] = [];
  let started: { pid: number; io: PreparedIo };
  try {
    started = await startProcess(opts, unlock);
  } finally {
    unlock();
    held = hold?.release() ?? [];
  }
  const { pid, io } = started;
  if (opts.detach) return 0; // the caller inherits the process when we exit; we never reap it

  const exit = libc.waitExit(pid);
  const fg = await attachForeground(io, pid, exit);
  forwardHeld(pid, held);
  try {
    const code = await exit;
    await fg.relayDone;
    return code;
  } finally {
    fg.dispose();
  }
}

async function startProcess(opts: ExecOptions, joined: () => void): Promise<{ pid: number; io: PreparedIo }> {
  const c = loadContainer(opts.root, opts.id);
  if (c.status === "stopped") throw new ContainerError("cannot exec in a stopped container");
  if (c.status === "paused" && !opts.ignorePaused)
    throw new ContainerError("cannot exec in a paused container (use --ignore-paused to override)");

  const config = savedConfig(c.dir, c.state.bundle);
  let proc: Process;
  if (opts.processFile) proc = readProcessFile(opts.processFile);
  else proc = execProcessFromConfig(bundleProcess(c.state.bundle), opts.overrides ?? { args: [] });
  const mode = ioMode({ terminal: !!proc.terminal, detach: opts.detach, consoleSocket: opts.consoleSocket });
  if (mode.kind === "terminal-foreground") {
    // Born with the caller's size (which wins over a process.json's, as runc resizes from the host at start), so
    // a program that reads it at once sees the right one; the relay follows later changes.
    try {
      const host = current();
      try {
        const { rows, cols } = host.size();
        proc = { ...proc, consoleSize: { height: rows, width: cols } };
      } finally {
        host.close();
      }
    } catch {}
  }

  const namespaces = namespacesToJoin(c.state.pid);
  // The namespaces were read from /proc/<pid>: make sure that pid was still our init, not a recycled one.
  if (!initAlive(c.state)) throw new ContainerError("cannot exec in a stopped container");
  const preserveFds = opts.preserveFds ?? 0;
  const plan = compileExecPlan(proc, {
    namespaces,
    consoleSocket: !!proc.terminal,
    consoleSync: mode.kind === "terminal-foreground",
    preserveFds,
    ...(c.state.noNewKeyring ? {} : { sessionKeyring: sessionKeyringName(c.state.id) }),
    umask: config.process?.user?.umask ?? undefined,
    oomScoreAdj: config.process?.oomScoreAdj ?? undefined,
    lastCap: lastCap(),
    seccomp: config.linux?.seccomp,
    selinux: existsSync("/sys/fs/selinux/enforce"),
    apparmorAttrDir: existsSync("/proc/self/attr/apparmor/exec"),
    // Through the init's root, so a file the container has bound over it is the one read; symlinks are
    // followed inside that root.
    passwd: () => readText(new RootfsResolver(`/proc/${c.state.pid}/root`, readlink).host("/etc/passwd")),
  });

  let io: PreparedIo | undefined;
  let pid = 0;
  try {
    io = prepareIo(mode, c.state.rootUid, c.state.rootGid);
    const run = startExecutor({
      plan,
      stdio: io.stdio,
      preserveFds,
      consoleFd: io.consoleFd,
      debug: opts.debug,
      onPid: (p) => {
        pid = p;
      },
      // A notify listener of the container's filter goes to its agent, as for the init.
      onSeccompFd: (fd) =>
        sendSeccompListener({
          pid,
          fd,
          listenerPath: config.linux?.seccomp?.listenerPath ?? "",
          listenerMetadata: config.linux?.seccomp?.listenerMetadata,
          state: ociState(c.state, "running"),
        }),
      onSync: async (label) => {
        switch (label) {
          case EXEC_SYNC_LABELS.cgroups:
            if (Object.keys(c.state.cgroupPaths).length > 0) c.cgroups.apply(pid);
            joined();
            return undefined;
          case EXEC_SYNC_LABELS.console: {
            // The pty's line discipline turns \n into \r\n and the host terminal does it again: cleared here,
            // before the program runs, so not even its first line gets a double \r.
            const m = await io?.master;
            if (m) consoleFromFd(m.fd, { name: m.name }).clearONLCR();
            return undefined;
          }
          default:
            throw new ContainerError(`init channel: unknown sync ${label}`);
        }
      },
    });
    io.afterSpawn();
    await run.done;
    if (pid <= 0) throw new ContainerError("tsrun-exec exited without reporting the process's pid");
  } catch (e) {
    io?.abort();
    // The process is our child (CLONE_PARENT): kill it if it still runs, and reap it either way.
    if (pid > 0) {
      libc.kill(pid, 9);
      await libc.waitExit(pid).catch(() => {});
    }
    throw e;
  }
  if (opts.pidFile) writePidFile(opts.pidFile, pid);
  return { pid, io };
}
