// The command template: how tsrun starts native/tsrun-exec and talks to it. Like runc's newParentProcess, every
// channel is an inherited fd whose number is published in a _TSRUN_* variable; the plan goes down the init
// channel as the first frame (framing in plan-codec.ts, meaning in native/protocol.h).
import type { ChildProcess, StdioOptions } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { childProcess } from "./child-process.js";
import { ContainerError } from "./container-error.js";
import type { Plan } from "./plan.js";
import { encodeFrame, encodePlan, FrameReader, FrameType } from "./plan-codec.js";
import { sealedExecutorPath } from "./sealed-executor.js";

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
  /** Takes the seccomp listener at this fd number of the init (FRAME_SECCOMP_FD); throwing aborts the init. */
  onSeccompFd?: (fd: number) => Promise<void> | void;
  debug?: boolean;
}

export interface ExecutorRun {
  stage0: ChildProcess;
  /** Settles when the init has closed the channel: it reached the exec.fifo wait, or exec'd (resolves), or a
   *  step failed (rejects with the executor's error text). */
  done: Promise<void>;
}

export function startExecutor(opts: ExecutorOptions): ExecutorRun {
  const n = opts.preserveFds;
  const chanFd = 3 + n;
  const stdio: StdioOptions = [...opts.stdio];
  for (let fd = 3; fd < 3 + n; fd++) stdio.push(fd);
  stdio.push("pipe"); // libuv makes this a unix socketpair: our end is a net.Socket
  const env: Record<string, string> = { _TSRUN_INITPIPE: String(chanFd) };
  let next = chanFd + 1;
  if (opts.fifoFd !== undefined) {
    stdio.push(opts.fifoFd);
    env._TSRUN_FIFOFD = String(next++);
  }
  if (opts.consoleFd !== undefined) {
    stdio.push(opts.consoleFd);
    env._TSRUN_CONSOLE = String(next++);
  }
  if (n > 0) env._TSRUN_PRESERVE_FDS = String(n);
  if (opts.debug) env._TSRUN_LOGLEVEL = "debug";

  // From a sealed memfd, never the file: the container can reach the executor's /proc/<pid>/exe (CVE-2019-5736).
  const stage0 = childProcess().spawn(sealedExecutorPath(executorPath()), [], {
    stdio,
    env,
    argv0: "tsrun-exec",
  });
  const chan = stage0.stdio[chanFd] as Socket;
  const done = new Promise<void>((resolve, reject) => {
    const reader = new FrameReader();
    let error: string | undefined;
    let queue = Promise.resolve();
    stage0.on("error", (e) => reject(new ContainerError(`start tsrun-exec: ${e.message}`)));
    chan.on("error", () => {}); // EPIPE/ECONNRESET when the init is gone; the close below reports it
    chan.on("data", (chunk: Buffer) => {
      let frames: ReturnType<FrameReader["push"]>;
      try {
        frames = reader.push(chunk);
      } catch (e) {
        error = `init channel: ${(e as Error).message}`;
        chan.destroy();
        return;
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
            // Syncs are answered in order; each may do slow work (hooks) while frames keep arriving.
            queue = queue.then(async () => {
              try {
                let reply: Buffer | string | undefined;
                if (seccompFd === -1) reply = await opts.onSync(label);
                else if (seccompFd < 0) throw new ContainerError("init channel: malformed seccomp frame");
                else if (opts.onSeccompFd) await opts.onSeccompFd(seccompFd);
                else throw new ContainerError("init channel: a seccomp listener nobody takes");
                if (!chan.destroyed) chan.write(encodeFrame(FrameType.Ok, reply ?? Buffer.alloc(0)));
              } catch (e) {
                error ??= (e as Error).message;
                if (!chan.destroyed) chan.write(encodeFrame(FrameType.Abort, error));
              }
            });
            break;
          }
          default:
            error ??= `init channel: unexpected frame type ${f.type}`;
        }
      }
    });
    chan.on("close", () => {
      queue.then(() => {
        if (error !== undefined) reject(new ContainerError(error));
        else if (reader.pending) reject(new ContainerError("init channel: truncated frame"));
        else resolve();
      });
    });
  });
  chan.write(encodeFrame(FrameType.Plan, encodePlan(opts.plan)));
  return { stage0, done };
}
