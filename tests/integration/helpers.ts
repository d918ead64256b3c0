// Shared by the integration suite: the runtime under test (tsrun by default, any runc-compatible binary through
// TSRUN_TEST_RUNTIME, so every assertion is checked against runc's real behaviour too), busybox bundles, and
// a way to run the runtime inside a real pseudo-terminal.

import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import { type Console, createRelay, newPty } from "../../packages/console/src/index.js";
import { getTermios, type Termios } from "../../packages/console/src/termios.js";
import { defaultSpec, type Spec } from "../../packages/libcontainer/src/index.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));

export const RUNTIME = process.env.TSRUN_TEST_RUNTIME || join(repo, "packages/cli/bin/tsrun");
export const IS_RUNC = /(^|\/)runc$/.test(RUNTIME);

/** A clean environment for the runtime, as a shim would give it (and without the CA bundle that slows Node). */
export const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };

/**
 * The busybox rootfs from tools/rootfs, shared by every worker and run: keyed by the builder script and the
 * busybox binary, built aside and renamed into place, so concurrent workers never see half of it and no run
 * leaves a copy of its own behind. Bundles copy it.
 */
export function rootfs(): string {
  const script = join(repo, "tools/rootfs/make-rootfs.sh");
  const key = createHash("sha256")
    .update(readFileSync(script))
    .update(String(statSync("/bin/busybox").mtimeMs))
    .digest("hex")
    .slice(0, 12);
  const dir = join(tmpdir(), `tsrun-test-rootfs-${key}`);
  if (existsSync(join(dir, "bin/sh"))) return dir;
  const building = `${dir}.${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  execFileSync("bash", [script, building]);
  try {
    renameSync(building, dir);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another worker won the race
  }
  return dir;
}

export interface Bundle {
  dir: string;
  root: string;
  spec: Spec;
  write(): void;
  destroy(): void;
}

/** A bundle with its own copy of the rootfs and a private state root for the runtime. */
export function makeBundle(edit: (s: Spec) => void = () => {}): Bundle {
  const dir = mkdtempSync(join(tmpdir(), "tsrun-it-"));
  cpSync(rootfs(), join(dir, "rootfs"), { recursive: true, verbatimSymlinks: true });
  const spec = defaultSpec();
  spec.process!.terminal = false;
  // A cgroup of its own: the default (/<id>) is shared by every state root on the host.
  spec.linux!.cgroupsPath = `/${basename(dir)}`;
  edit(spec);
  const root = join(dir, "state");
  const b: Bundle = {
    dir,
    root,
    spec,
    write: () => writeFileSync(join(dir, "config.json"), JSON.stringify(spec, null, 2)),
    destroy: () => {
      for (const id of existsSync(root) ? readdirSync(root) : []) {
        try {
          execFileSync(RUNTIME, ["--root", root, "delete", "--force", id], { env: ENV, stdio: "ignore" });
        } catch {}
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  b.write();
  return b;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the runtime to completion with --root and the bundle as cwd. */
export function rt(
  b: Bundle,
  args: string[],
  opts: { input?: string; stdio?: SpawnOptions["stdio"] } = {},
): Promise<Result> {
  const child = spawnRt(b, args, opts.stdio ?? ["pipe", "pipe", "pipe"]);
  return collect(child, opts.input);
}

export function spawnRt(b: Bundle, args: string[], stdio: SpawnOptions["stdio"]): ChildProcess {
  return spawn(RUNTIME, ["--root", b.root, ...args], { cwd: b.dir, env: ENV, stdio });
}

export function collect(child: ChildProcess, input?: string): Promise<Result> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (d: Buffer) => out.push(d));
  child.stderr?.on("data", (d: Buffer) => err.push(d));
  if (child.stdin) {
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  }
  return new Promise((resolve) =>
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    ),
  );
}

export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function stateOf(b: Bundle, id: string): { status: string; pid: number } | undefined {
  try {
    return JSON.parse(
      execFileSync(RUNTIME, ["--root", b.root, "state", id], {
        env: ENV,
        stdio: ["ignore", "pipe", "ignore"],
      }).toString(),
    );
  } catch {
    return undefined;
  }
}

export function mkdirp(p: string): string {
  mkdirSync(p, { recursive: true });
  return p;
}

/**
 * Runs the runtime with stdout and stderr in files and waits for its exit only: a created or detached
 * container inherits those fds and may keep them open long after the runtime is gone.
 */
export async function rtq(
  b: Bundle,
  args: string[],
  opts: { extraFds?: number[]; cwd?: string; global?: string[]; runtime?: string } = {},
): Promise<Result> {
  const outPath = join(b.dir, `.out-${process.hrtime.bigint()}`);
  const errPath = `${outPath}.err`;
  const out = openSync(outPath, "w+");
  const err = openSync(errPath, "w+");
  try {
    const child = spawn(opts.runtime ?? RUNTIME, [...(opts.global ?? ["--root", b.root]), ...args], {
      cwd: opts.cwd ?? b.dir,
      env: ENV,
      stdio: ["ignore", out, err, ...(opts.extraFds ?? [])],
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (c, s) => resolve([c, s]));
    });
    return { code, signal, stdout: readFileSync(outPath, "utf8"), stderr: readFileSync(errPath, "utf8") };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(outPath, { force: true });
    rmSync(errPath, { force: true });
  }
}

/** The state letter of /proc/PID/stat, or undefined when the process is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** Whether PID is a live process (a zombie is dead: it only waits for a reaper). */
export function alive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== "Z" && s !== "X";
}

/** What a bundle left behind: state dirs, host mounts under the bundle, live container processes. */
export function leftovers(b: Bundle, pids: Iterable<number> = []): string[] {
  const found: string[] = [];
  if (existsSync(b.root)) for (const e of readdirSync(b.root)) found.push(`state dir ${join(b.root, e)}`);
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mountPoint = line.split(" ")[4];
    if (mountPoint?.startsWith(`${b.dir}/`)) found.push(`mount ${mountPoint}`);
  }
  for (const pid of pids) if (alive(pid)) found.push(`live process ${pid}`);
  const cg = b.spec.linux?.cgroupsPath;
  if (cg?.startsWith("/"))
    for (const ctl of ["pids", "memory", "cpu", "devices", "freezer"]) {
      if (existsSync(join("/sys/fs/cgroup", ctl, cg))) found.push(`cgroup ${ctl}${cg}`);
    }
  return found;
}

/**
 * One per test file: bundles made through it are checked after each test for leftovers (state, mounts, the
 * processes passed to track) and then destroyed.
 */
export function useBundles(): { bundle: typeof makeBundle; track: (pid: number) => number } {
  const bundles: Bundle[] = [];
  const pids = new Set<number>();
  afterEach(async () => {
    // A killed init may take a moment to be gone from the kernel's view.
    const end = Date.now() + 2000;
    while ([...pids].some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const problems = bundles.flatMap((b) => leftovers(b, pids));
    for (const b of bundles.splice(0)) b.destroy();
    pids.clear();
    expect(problems).toEqual([]);
  });
  return {
    bundle: (edit) => {
      const b = makeBundle(edit);
      bundles.push(b);
      return b;
    },
    track: (pid) => {
      pids.add(pid);
      return pid;
    },
  };
}

/** state's JSON, or the failure. */
export async function stateJson(b: Bundle, id: string): Promise<Record<string, unknown>> {
  const r = await rtq(b, ["state", id]);
  if (r.code !== 0) throw new Error(`state ${id} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Runs the runtime with a pty slave as its stdio (window rows x cols, 24x80 unless given); returns what came out of
 * the master, the exit status and the slave's termios before and after. `input` is typed into the master once the
 * output shows `ready` (whose termios is returned as termiosDuring), or after 300 ms without it; `during` runs while
 * the runtime does.
 */
export async function inPty(
  b: Bundle,
  args: string[],
  opts: {
    rows?: number;
    cols?: number;
    input?: string;
    ready?: string;
    during?: (pid: number, master: Console, slave: number, output: () => string) => Promise<void>;
  } = {},
): Promise<Result & { out: string; termiosBefore: Termios; termiosDuring?: Termios; termiosAfter: Termios }> {
  const { master, slavePath } = newPty();
  master.resize({ rows: opts.rows ?? 24, cols: opts.cols ?? 80 });
  const slave = openSync(slavePath, "r+");
  const termiosBefore = getTermios(slave);
  const child = spawnRt(b, args, [slave, slave, slave]);
  const chunks: Buffer[] = [];
  const output = () => Buffer.concat(chunks).toString();
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  const relay = createRelay(master, { input: null, output: sink });
  const exited = collect(child);
  let termiosDuring: Termios | undefined;
  if (opts.input) {
    const ready = opts.ready;
    if (ready === undefined) await new Promise((r) => setTimeout(r, 300));
    else {
      await until("the prompt", () => output().includes(ready), 10_000);
      termiosDuring = getTermios(slave);
    }
    writeSync(master.fd, opts.input);
  }
  if (opts.during) await opts.during(child.pid!, master, slave, output);
  const res = await exited;
  const termiosAfter = getTermios(slave);
  closeSync(slave);
  relay.shutdown();
  await relay.done;
  master.close();
  return { ...res, out: output(), termiosBefore, termiosDuring, termiosAfter };
}

/** Reads a console master until the text read so far passes `done` or `ms` have passed; returns that text. */
export function readMaster(fd: number, done: (text: string) => boolean, ms = 5000): string {
  let text = "";
  const buf = Buffer.alloc(4096);
  const end = Date.now() + ms;
  while (!done(text) && Date.now() < end) {
    try {
      const n = readSync(fd, buf);
      text += buf.subarray(0, n).toString();
    } catch {
      break;
    }
  }
  return text;
}

/** Runs the runtime with piped stdio and sends it SIGTERM once its stdout shows "ready"; returns how it ended. */
export async function termWhenReady(b: Bundle, args: string[]): Promise<Result> {
  const child = spawnRt(b, args, ["pipe", "pipe", "pipe"]);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const done = collect(child);
  await until("ready", () => out.includes("ready"), 10_000);
  child.kill("SIGTERM");
  return done;
}
