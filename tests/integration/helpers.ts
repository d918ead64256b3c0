// Shared by the integration suite: the runtime under test (tsrun by default, any runc-compatible binary through
// TSRUN_TEST_RUNTIME, so every assertion is checked against runc's real behaviour too), busybox bundles, and
// a way to run the runtime inside a real pseudo-terminal.
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultSpec, type Spec } from "../../packages/libcontainer/src/index.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));

export const RUNTIME = process.env.TSRUN_TEST_RUNTIME || join(repo, "packages/cli/bin/tsrun");
export const IS_RUNC = /(^|\/)runc$/.test(RUNTIME);

/** A clean environment for the runtime, as a shim would give it (and without the CA bundle that slows Node). */
export const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };

let rootfsCache: string | undefined;

/** The busybox rootfs, built once per test run by tools/rootfs. */
export function rootfs(): string {
  if (rootfsCache && existsSync(join(rootfsCache, "bin/sh"))) return rootfsCache;
  const dir = join(tmpdir(), `tsrun-test-rootfs-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  execFileSync("bash", [join(repo, "tools/rootfs/make-rootfs.sh"), dir]);
  rootfsCache = dir;
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
