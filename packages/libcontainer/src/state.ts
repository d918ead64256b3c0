// A container's record under the state root (<root>/<id>/state.json) and its status, which is derived from the
// live system as runc derives it, never trusted from the file: a record says who the init was, /proc says whether
// it still is.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ContainerError, notExist } from "./container-error.js";
import { validateId } from "./container-id.js";
import type { Hooks, Resources, Spec } from "./spec.js";

export type Status = "creating" | "created" | "running" | "paused" | "stopped";

export interface StateFile {
  id: string;
  /** The init's host pid. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the init started: a recycled pid has another one. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds, as runc writes it. */
  created: string;
  annotations?: Record<string, string>;
  /** controller -> cgroup directory, for kill --all, pause and removal. */
  cgroupPaths: Record<string, string>;
  /** The uid/gid that root in the container maps to on the host. */
  rootUid: number;
  rootGid: number;
  /** Hooks that run after create returns: poststart (by start), poststop (by delete). */
  hooks?: Pick<Hooks, "poststart" | "poststop">;
  /** Whether the init runs in its own pid namespace (kill --all is needed without one). */
  ownPidNamespace: boolean;
  /** linux.resources as applied at create and changed since by `update`. */
  resources?: Resources;
  /** Created with --no-new-keyring: its processes keep their caller's session keyring, exec's too. */
  noNewKeyring?: boolean;
}

export const STATE_FILE = "state.json";
/** The spec as create read it: exec takes the seccomp filter, umask and oom_score_adj from it, not from the
 *  bundle's config.json as it is now. */
export const CONFIG_FILE = "config.json";
export const EXEC_FIFO = "exec.fifo";

/** The container's session keyring, named as runc names it, so tools that look for it find it. */
export function sessionKeyringName(id: string): string {
  return `_ses.${id}`;
}

export function containerDir(root: string, id: string): string {
  validateId(id);
  return join(root, id);
}

/**
 * Removes a container's directory, which holds only files: a readdir, an unlink each and an rmdir, where
 * rmSync's recursive walk costs ~1 ms of cold JavaScript per command. Anything else (a subdirectory, a file
 * that went away meanwhile) gets rmSync, recursive and forced, as before.
 */
export function removeContainerDir(dir: string): void {
  try {
    for (const name of readdirSync(dir)) unlinkSync(join(dir, name));
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The state root is private to root: it holds fifos and the paths of every container. */
export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

/** Written to a temporary file and renamed over, so a reader never sees half a record. */
export function saveState(dir: string, state: StateFile): void {
  const tmp = join(dir, `.${STATE_FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, join(dir, STATE_FILE));
}

/** Saved before state.json, so a container that has a state also has its config. */
export function saveConfig(dir: string, spec: Spec): void {
  const tmp = join(dir, `.${CONFIG_FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(spec), { mode: 0o600 });
  renameSync(tmp, join(dir, CONFIG_FILE));
}

export function loadState(root: string, id: string): StateFile {
  const dir = containerDir(root, id);
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw notExist();
    throw e;
  }
  try {
    return JSON.parse(text) as StateFile;
  } catch {
    throw new ContainerError(`${join(dir, STATE_FILE)}: corrupt state file`);
  }
}

/** Ids with a state directory under root, sorted as runc lists them (by directory order is unstable). */
export function listIds(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/** Field 3 (state) and field 22 (start time) of /proc/<pid>/stat, or undefined when there is no such process. */
export function procStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses; everything after the last ')' is space-separated.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", startTime: fields[19] ?? "" };
}

/** Whether the recorded init is still that same process and not a zombie. */
export function initAlive(state: Pick<StateFile, "pid" | "pidStartTime">): boolean {
  if (state.pid <= 0) return false;
  const st = procStat(state.pid);
  return st !== undefined && st.state !== "Z" && st.state !== "X" && st.startTime === state.pidStartTime;
}

/**
 * runc's refreshState: stopped when the init is gone (or its pid was reused), paused when the freezer says so,
 * created while exec.fifo exists (the init has not been released), running otherwise.
 */
export function deriveStatus(dir: string, state: StateFile, isFrozen: () => boolean): Status {
  if (!initAlive(state)) return "stopped";
  if (isFrozen()) return "paused";
  if (existsSync(join(dir, EXEC_FIFO))) return "created";
  return "running";
}

/** RFC 3339 with nanoseconds (JavaScript clocks give microseconds at best; the rest is zero). */
export function nowRfc3339Nano(): string {
  const now = new Date();
  const micros = Number(process.hrtime.bigint() / 1000n) % 1000;
  const iso = now.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}${String(micros).padStart(3, "0")}000Z`;
}

/** The user that owns the state directory, as runc's list prints it. */
export function ownerOf(dir: string): string {
  const uid = statSync(dir).uid;
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid)) return f[0] ?? String(uid);
    }
  } catch {}
  return `#${uid}`;
}
