// events: runc's `events`: one stats event (--stats), or stats every interval and an "oom" event whenever the
// kernel's OOM killer acts in the container's memory cgroup, until the container stops. OOM kills are read from a
// counter (v1: memory.oom_control's oom_kill, or under_oom turning on for older kernels; v2: memory.events'
// oom_kill), polled: the eventfd that runc registers would need a second thread to wait on it.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { UNIFIED_KEY } from "./cgroups/index.js";
import { type LoadedContainer, loadContainer } from "./container.js";
import { ContainerError } from "./container-error.js";
import { initAlive } from "./state.js";
import { cgroupStats, type Json, parseKeyValues, toJson } from "./stats.js";

/** One event as a line of runc's output: {"type":...,"id":...,"data":...} (data left out when absent). */
export function eventLine(type: "stats" | "oom", id: string, data?: Json): string {
  const e: { [key: string]: Json } = { type, id };
  if (data !== undefined) e.data = data;
  return `${toJson(e)}\n`;
}

function runningContainer(root: string, id: string): LoadedContainer {
  const c = loadContainer(root, id);
  if (c.status === "stopped") throw new ContainerError(`container with id ${id} is not running`);
  return c;
}

export function statsEvent(root: string, id: string): string {
  const c = runningContainer(root, id);
  return eventLine("stats", id, cgroupStats(c.cgroups.paths));
}

/** The OOM kill counter of a memory cgroup directory; `v2` picks the file. Undefined when unreadable. */
export function oomCount(dir: string, v2: boolean): bigint | undefined {
  let text: string;
  try {
    text = readFileSync(posix.join(dir, v2 ? "memory.events" : "memory.oom_control"), "utf8");
  } catch {
    return undefined;
  }
  const kv = parseKeyValues(text);
  return kv.get("oom_kill") ?? kv.get("under_oom");
}

export interface WatchOptions {
  intervalMs: number;
  write: (line: string) => void;
  /** How often OOM counters and the container's liveness are checked. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Streams events until the container stops (or `signal` aborts). */
export async function watchEvents(root: string, id: string, opts: WatchOptions): Promise<void> {
  const c = runningContainer(root, id);
  const paths = c.cgroups.paths;
  const v2 = Object.keys(paths).length === 1 && paths[UNIFIED_KEY] !== undefined;
  const memDir = v2 ? paths[UNIFIED_KEY] : paths.memory;
  const poll = opts.pollMs ?? 100;
  let last = memDir === undefined ? undefined : oomCount(memDir, v2);
  const checkOom = () => {
    if (memDir === undefined) return;
    const now = oomCount(memDir, v2);
    if (now === undefined) return;
    // under_oom is a 0/1 flag: an event when it turns on; oom_kill counts: an event when it grows.
    if (last !== undefined && now > last) opts.write(eventLine("oom", id));
    last = now;
  };
  let nextStats = Date.now() + opts.intervalMs;
  while (!opts.signal?.aborted) {
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(poll, nextStats - Date.now()))));
    checkOom();
    if (!initAlive(c.state)) return;
    if (Date.now() >= nextStats) {
      nextStats += opts.intervalMs;
      if (nextStats < Date.now()) nextStats = Date.now() + opts.intervalMs;
      opts.write(eventLine("stats", id, cgroupStats(paths)));
    }
  }
}
