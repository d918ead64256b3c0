// Real processes in real cgroups, and the cleanup that must run even when a test fails.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmdirSync } from "node:fs";
import type { CgroupManager } from "../../packages/libcontainer/src/cgroups/index.js";

export const isRoot = process.getuid?.() === 0;

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
