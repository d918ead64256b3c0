// The command template: how tsrun starts native/tsrun-exec and talks to it. Like runc's newParentProcess, every
// channel is an inherited fd whose number is published in a _TSRUN_* variable; the plan goes down the init
// channel as the first frame (framing in plan-codec.ts, meaning in native/protocol.h).
import { existsSync, readSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { socketpair } from "@tsrun/fdpass";
import { ContainerError } from "./container-error.js";
import * as libc from "./libc.js";
import type { Plan } from "./plan.js";
import { encodeFrame, encodePlan, FrameReader, FrameType } from "./plan-codec.js";
import { sealedExecutorFd } from "./sealed-executor.js";
import { type FdSource, spawnProcess } from "./spawn.js";

/** Where tsrun-exec is: beside the built package, or in the workspace's native/build during development. */
export function executorPath(): string {
  const fromEnv = process.env.TSRUN_EXECUTOR;
  if (fromEnv) return fromEnv;
  for (const rel of ["./tsrun-exec", "../../../native/build/tsrun-exec", "../../native/build/tsrun-exec"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new ContainerError("tsrun-exec not found: build native/ (make -C native) or set TSRUN_EXECUTOR");
}

export interface ExecutorOptions {
  plan: Plan;
  /** The executor's fds 0, 1, 2 (numbers are dup'ed in, "ignore" is /dev/null, "inherit" is ours). */
  stdio: [number | "ignore" | "inherit", number | "ignore" | "inherit", number | "ignore" | "inherit"];
  /** --preserve-fds N: our fds 3 .. 3+N-1 become the executor's, and the container's. */
  preserveFds: number;
  /** O_PATH fd of exec.fifo. */
  fifoFd?: number;
  /** The socket that receives the pty master. */
  consoleFd?: number;
  /** Called when the init's pid is known (before any init op has run). */
  onPid: (pid: number) => void;
  /** Answers an OP_SYNC; the returned bytes (if any) go back in FRAME_OK. Throwing aborts the init. */
  onSync: (label: string) => Promise<Buffer | string | undefined> | Buffer | string | undefined;
  /** Runs once the executor has its plan, while it starts and clones: work that needs no pid overlaps that. */
  meanwhile?: () => void;
  /** Takes the seccomp listener at this fd number of the init (FRAME_SECCOMP_FD); throwing aborts the init. */
  onSeccompFd?: (fd: number) => Promise<void> | void;
  debug?: boolean;
}

export interface ExecutorRun {
  /** The executor's first process; `done` reaps it. */
  stage0: number;
  /** Settles when the init has closed the channel: it reached the exec.fifo wait, or exec'd (resolves), or a
   *  step failed (rejects with the executor's error text); stage 0 has been reaped either way. */
  done: Promise<void>;
}

export function startExecutor(opts: ExecutorOptions): ExecutorRun {
  const n = opts.preserveFds;
  const chanFd = 3 + n;
  const fds: FdSource[] = [...opts.stdio];
  for (let fd = 3; fd < 3 + n; fd++) fds.push(fd);
  const [chan, theirs] = socketpair("stream");
  fds.push(theirs);
  const env: Record<string, string> = { _TSRUN_INITPIPE: String(chanFd) };
  let next = chanFd + 1;
  if (opts.fifoFd !== undefined) {
    fds.push(opts.fifoFd);
    env._TSRUN_FIFOFD = String(next++);
  }
  if (opts.consoleFd !== undefined) {
    fds.push(opts.consoleFd);
    env._TSRUN_CONSOLE = String(next++);
  }
  if (n > 0) env._TSRUN_PRESERVE_FDS = String(n);
  if (opts.debug) env._TSRUN_LOGLEVEL = "debug";

  let stage0: number;
  try {
    // From a sealed memfd, never the file: the container can reach the executor's /proc/<pid>/exe (CVE-2019-5736).
    stage0 = spawnProcess({ fd: sealedExecutorFd(executorPath()) }, { argv0: "tsrun-exec", env, fds });
  } catch (e) {
    libc.close(chan);
    throw new ContainerError(`start tsrun-exec: ${(e as Error).message}`);
  } finally {
    libc.close(theirs);
  }
  const done = converse(chan, opts).finally(() => {
    libc.close(chan);
    // Stage 0 exits right after the clone (or on its first failure); this wait is short.
    libc.waitExitSync(stage0);
  });
  return { stage0, done };
}

/**
 * The conversation on the init channel, with blocking reads: the executor only ever waits for us after a Sync,
 * so there is nothing for the event loop to do while we wait for it, and no net.Socket to load and set up.
 */
async function converse(chan: number, opts: ExecutorOptions): Promise<void> {
  const send = (type: number, payload: Buffer | string) => {
    try {
      writeAll(chan, encodeFrame(type, payload));
    } catch {
      // EPIPE when the executor is gone: the end of the channel reports why.
    }
  };
  send(FrameType.Plan, encodePlan(opts.plan));
  opts.meanwhile?.();
  const reader = new FrameReader();
  const buf = Buffer.allocUnsafe(64 * 1024);
  let error: string | undefined;
  for (;;) {
    let got: number;
    try {
      got = readSync(chan, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EINTR" || code === "EAGAIN") continue;
      if (code !== "ECONNRESET") error ??= `init channel: ${(e as Error).message}`;
      break;
    }
    if (got === 0) break;
    let frames: ReturnType<FrameReader["push"]>;
    try {
      frames = reader.push(Buffer.from(buf.subarray(0, got)));
    } catch (e) {
      error ??= `init channel: ${(e as Error).message}`;
      break;
    }
    for (const f of frames) {
      switch (f.type) {
        case FrameType.Pid:
          opts.onPid(f.payload.readUInt32LE(0));
          break;
        case FrameType.Error:
          error ??= f.payload.toString();
          break;
        case FrameType.Log:
          process.stderr.write(`tsrun-exec: ${f.payload.toString()}\n`);
          break;
        case FrameType.Sync:
        case FrameType.SeccompFd: {
          const label = f.payload.toString();
          const seccompFd =
            f.type !== FrameType.SeccompFd ? -1 : f.payload.length === 4 ? f.payload.readUInt32LE(0) : -2;
          try {
            let reply: Buffer | string | undefined;
            if (seccompFd === -1) reply = await opts.onSync(label);
            else if (seccompFd < 0) throw new ContainerError("init channel: malformed seccomp frame");
            else if (opts.onSeccompFd) await opts.onSeccompFd(seccompFd);
            else throw new ContainerError("init channel: a seccomp listener nobody takes");
            send(FrameType.Ok, reply ?? Buffer.alloc(0));
          } catch (e) {
            error ??= (e as Error).message;
            send(FrameType.Abort, error);
          }
          break;
        }
        default:
          error ??= `init channel: unexpected frame type ${f.type}`;
      }
    }
  }
  if (error !== undefined) throw new ContainerError(error);
  if (reader.pending) throw new ContainerError("init channel: truncated frame");
}

function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length; ) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EINTR" && code !== "EAGAIN") throw e;
    }
  }
}
