// Runs native/build/tsrun-exec the way the lifecycle will: the init channel as a libuv socketpair on fd 3, the
// plan as the first frame, FRAME_SYNC answered, FRAME_PID and FRAME_ERROR collected, the init reaped by pid.
import { execFileSync, type StdioOptions, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { op, type Plan } from "../../packages/libcontainer/src/plan.js";
import {
  encodeFrame,
  encodePlan,
  FrameReader,
  FrameType,
} from "../../packages/libcontainer/src/plan-codec.js";
import { type WaitStatus, waitpid } from "./libc.js";

export const EXECUTOR = fileURLToPath(new URL("../../native/build/tsrun-exec", import.meta.url));

export const CLONE_NEWNS = 0x20000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SHARED = 1 << 20;
export const S_IFCHR = 0o020000;
export const makedev = (major: number, minor: number) => (major << 8) | minor;
export const ENV = ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"];

export interface Scratch {
  /** The file's own temporary directory, world-traversable (a user-namespaced root, host uid 100000, reaches it). */
  top: string;
  /** The busybox rootfs from tools/rootfs, built in top. */
  rootfs: string;
  /** A fresh copy of that rootfs in top, for one test to change. */
  fresh(name: string): string;
}

/**
 * One per test file: before all, builds native/ and a busybox rootfs at <top>/<name>; after all, removes top.
 * Every mount a test makes is in a container's own mount namespace and dies with it; nothing stays on the host.
 */
export function useScratch(prefix: string, name = "base"): Scratch {
  const scratch: Scratch = {
    top: "",
    rootfs: "",
    fresh: (copy) => {
      const dir = join(scratch.top, copy);
      execFileSync("cp", ["-a", scratch.rootfs, dir]);
      return dir;
    },
  };
  beforeAll(() => {
    execFileSync("make", ["-s", "-C", new URL("../../native", import.meta.url).pathname]);
    scratch.top = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(scratch.top, 0o755);
    scratch.rootfs = join(scratch.top, name);
    execFileSync("bash", [
      new URL("../../tools/rootfs/make-rootfs.sh", import.meta.url).pathname,
      scratch.rootfs,
    ]);
  });
  afterAll(() => {
    if (scratch.top) rmSync(scratch.top, { recursive: true, force: true });
  });
  return scratch;
}

/** Private propagation and the rootfs bound on itself, so it is a mount point pivot_root accepts. */
export function bindRootfs(rootfs: string): Plan {
  return [op.mount("", "/", "", MS_REC | MS_PRIVATE, ""), op.mount(rootfs, rootfs, "", MS_BIND | MS_REC, "")];
}

export const mountProc = (rootfs: string) =>
  op.mount("proc", `${rootfs}/proc`, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");

/** A new mount and pid namespace, the rootfs bound on itself, the resolution root (OP_ROOT) and proc. */
export function inRoot(rootfs: string): Plan {
  return [
    op.clone(CLONE_NEWNS | CLONE_NEWPID),
    op.initBegin(),
    ...bindRootfs(rootfs),
    op.root(rootfs),
    mountProc(rootfs),
  ];
}

export interface RunOptions {
  /** fds placed at 4, 5, ... in the executor (spawn's stdio array). */
  extraFds?: number[];
  env?: Record<string, string>;
  /** Answer to a FRAME_SYNC: a payload for FRAME_OK (hook stdin), or "abort". */
  onSync?: (label: string, pid: number | undefined) => Buffer | "abort" | Promise<Buffer | "abort">;
  /** Called once the executor has spawned, before the plan is sent. */
  onSpawn?: (stage0: number) => void;
}

export interface RunResult {
  /** Stage 0's exit code. */
  stage0: number | null;
  /** The init's pid from FRAME_PID. */
  pid?: number;
  /** The init's wait status (reaped by us: CLONE_PARENT made it our child). */
  init?: WaitStatus;
  syncs: string[];
  errors: string[];
  logs: string[];
  stdout: string;
  stderr: string;
}

export async function runPlan(plan: Plan, opts: RunOptions = {}): Promise<RunResult> {
  const stdio: StdioOptions = ["ignore", "pipe", "pipe", "pipe", ...(opts.extraFds ?? [])];
  const child = spawn(EXECUTOR, [], { stdio, env: { _TSRUN_INITPIPE: "3", ...opts.env } });
  opts.onSpawn?.(child.pid!);
  const result: RunResult = { stage0: null, syncs: [], errors: [], logs: [], stdout: "", stderr: "" };
  const chan = child.stdio[3] as Socket;
  const reader = new FrameReader();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (b: Buffer) => out.push(b));
  child.stderr!.on("data", (b: Buffer) => err.push(b));
  const outDone = Promise.all([
    new Promise((r) => child.stdout!.on("close", r)),
    new Promise((r) => child.stderr!.on("close", r)),
  ]);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const chanDone = new Promise((r) => chan.on("close", r));
  chan.on("error", () => {}); // EPIPE when the executor is gone is the normal end
  chan.on("data", async (chunk: Buffer) => {
    for (const f of reader.push(chunk)) {
      const text = f.payload.toString();
      if (f.type === FrameType.Pid) result.pid = f.payload.readUInt32LE(0);
      else if (f.type === FrameType.Error) result.errors.push(text);
      else if (f.type === FrameType.Log) result.logs.push(text);
      else if (f.type === FrameType.Sync) {
        result.syncs.push(text);
        const answer = opts.onSync ? await opts.onSync(text, result.pid) : Buffer.alloc(0);
        chan.write(
          answer === "abort" ? encodeFrame(FrameType.Abort, "aborted") : encodeFrame(FrameType.Ok, answer),
        );
      } else throw new Error(`unexpected frame type ${f.type}`);
    }
  });
  chan.write(encodeFrame(FrameType.Plan, encodePlan(plan)));
  result.stage0 = await exited;
  await chanDone;
  if (result.pid !== undefined) result.init = await waitpid(result.pid);
  await outDone;
  result.stdout = Buffer.concat(out).toString();
  result.stderr = Buffer.concat(err).toString();
  return result;
}
