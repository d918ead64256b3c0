// Runs native/build/tsrun-exec the way the lifecycle will: the init channel as a libuv socketpair on fd 3, the
// plan as the first frame, FRAME_SYNC answered, FRAME_PID and FRAME_ERROR collected, the init reaped by pid.
import { type StdioOptions, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import type { Plan } from "../../packages/libcontainer/src/plan.js";
import {
  encodeFrame,
  encodePlan,
  FrameReader,
  FrameType,
} from "../../packages/libcontainer/src/plan-codec.js";
import { type WaitStatus, waitpid } from "./libc.js";

export const EXECUTOR = fileURLToPath(new URL("../../native/build/tsrun-exec", import.meta.url));

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
