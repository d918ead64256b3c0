// Real processes in real cgroups, and the cleanup that must run even when a test fails.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CgroupManager,
  cgroupManager,
  detectLayout,
} from "../../packages/libcontainer/src/cgroups/index.js";

export const isRoot = process.getuid?.() === 0;

export const layout = detectLayout(readFileSync("/proc/self/mountinfo", "utf8"));
/** The cgroup2 tree: /sys/fs/cgroup on a v2 host, /sys/fs/cgroup/unified on a hybrid one, none on a v1 host. */
export const V2_ROOT =
  layout.mode === "v2" ? "/sys/fs/cgroup" : layout.mode === "hybrid" ? "/sys/fs/cgroup/unified" : undefined;
// On a hybrid host, the unified tree seen as a v2 host's /sys/fs/cgroup.
const V2_MOUNTINFO = "30 21 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n";

/** The v2 manager of /<name> on V2_ROOT. */
export function v2Manager(name: string) {
  return layout.mode === "v2"
    ? cgroupManager({ cgroupsPath: `/${name}`, id: name })
    : cgroupManager({ cgroupsPath: `/${name}`, id: name, root: V2_ROOT, mountinfo: V2_MOUNTINFO });
}

let counter = 0;
/** A cgroup name no other test run uses. */
export const uniqueName = (tag: string) => `tsrun-test-${tag}-${process.pid}-${++counter}`;

export interface Spawned {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function start(cmd: string, args: string[]): Spawned {
  const child = spawn(cmd, args, { stdio: ["pipe", "ignore", "inherit"] });
  if (child.pid === undefined) throw new Error(`spawn ${cmd} failed`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, pid: child.pid, exited };
}

/** What a test leaves behind: processes to kill, managers to thaw and destroy, directories to remove. */
export class Cleanup {
  private procs: Spawned[] = [];
  private managers: CgroupManager[] = [];
  private dirs: string[] = [];
  private restores: (() => void)[] = [];

  proc(p: Spawned): Spawned {
    this.procs.push(p);
    return p;
  }
  manager<M extends CgroupManager>(m: M): M {
    this.managers.push(m);
    return m;
  }
  dir(d: string): void {
    this.dirs.push(d);
  }
  restore(fn: () => void): void {
    this.restores.push(fn);
  }

  async run(): Promise<void> {
    for (const m of this.managers) {
      try {
        m.thaw();
      } catch {}
    }
    for (const p of this.procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      await p.exited;
    }
    for (const m of this.managers) {
      try {
        m.destroy();
      } catch {}
    }
    for (const d of this.dirs.reverse()) {
      try {
        if (existsSync(d)) rmdirSync(d);
      } catch {}
    }
    const failures: string[] = [];
    for (const fn of this.restores) {
      try {
        fn();
      } catch (err) {
        failures.push(String(err));
      }
    }
    this.procs = [];
    this.managers = [];
    this.dirs = [];
    this.restores = [];
    // A host setting left changed is a failure of its own.
    if (failures.length > 0) throw new Error(`cleanup: ${failures.join("; ")}`);
  }
}

export const readTrim = (path: string) => readFileSync(path, "utf8").trim();

/** The lines of /proc/PID/cgroup. */
export const procCgroup = (pid: number) =>
  readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").filter(Boolean);

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Puts a shell that appends to a file without end into m's cgroup (created) and gives it 200 ms; returns the file's
 * size, which grows for as long as the shell runs (appending, so a read never sees the file truncated).
 */
export async function busyCounter(cleanup: Cleanup, m: CgroupManager): Promise<() => number> {
  const tmp = mkdtempSync(join(tmpdir(), "tsrun-freeze-"));
  cleanup.restore(() => rmSync(tmp, { recursive: true, force: true }));
  const file = join(tmp, "count");
  const counter = cleanup.proc(start("sh", ["-c", `i=0; while :; do i=$((i+1)); echo $i >> ${file}; done`]));
  m.apply(counter.pid);
  await delay(200);
  return () => (existsSync(file) ? statSync(file).size : 0);
}
