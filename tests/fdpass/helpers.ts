// Shared by the fdpass integration tests: building what they run, busybox bundles, and a runc
// that keeps its state under a temporary --root so nothing outlives a test.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../..", import.meta.url));
export const recvttyBin = join(repo, "tools/recvtty/bin/recvtty");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds fdpass, console and recvtty with tsup when their dist is missing or older than their
 * sources, so the tests run the real launcher on the current code (`pnpm test` builds anyway).
 */
export function ensureBuilt(): void {
  const tsup = join(repo, "node_modules/.bin/tsup");
  const packages = [
    ["packages/fdpass", "dist/index.js"],
    ["packages/console", "dist/index.js"],
    ["tools/recvtty", "dist/main.js"],
  ] as const;
  for (const [dir, out] of packages) {
    const cwd = join(repo, dir);
    const built = join(cwd, out);
    const stale =
      !existsSync(built) ||
      statSync(built).mtimeMs <
        Math.max(newestMtime(join(cwd, "src")), statSync(join(cwd, "package.json")).mtimeMs);
    if (stale) execFileSync(tsup, [], { cwd, stdio: "ignore" });
  }
}

export interface Bundle {
  dir: string;
  runcRoot: string;
  ids: string[];
  /** runc with this bundle's private state root. */
  runc(args: string[], opts?: { timeoutMs?: number }): string;
  /** `runc run -d --console-socket SOCKET ID` with the given process args; `create` makes it without starting it. */
  runDetached(id: string, socket: string, args: string[], verb?: "run" | "create"): void;
  /** Deletes every container started here (force), then removes the temp dir. */
  destroy(): void;
}

/** A busybox bundle in a fresh temp dir: rootfs from tools/rootfs, config from `runc spec`. */
export function makeBundle(): Bundle {
  const dir = mkdtempSync(join(tmpdir(), "tsrun-fdpass-"));
  const runcRoot = join(dir, "runc-state");
  const ids: string[] = [];
  let baseConfig: { process: { terminal: boolean; args: string[] }; root: { readonly: boolean } };
  try {
    execFileSync("bash", [join(repo, "tools/rootfs/make-rootfs.sh"), join(dir, "rootfs")], {
      stdio: "ignore",
    });
    execFileSync("runc", ["spec"], { cwd: dir });
    baseConfig = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  baseConfig.process.terminal = true;
  // The null-mode test lets containers leave marker files in the rootfs.
  baseConfig.root.readonly = false;
  const bundle: Bundle = {
    dir,
    runcRoot,
    ids,
    runc(args, opts) {
      return execFileSync("runc", ["--root", runcRoot, ...args], {
        encoding: "utf8",
        timeout: opts?.timeoutMs ?? 20_000,
        stdio: ["ignore", "pipe", "pipe"],
      });
    },
    runDetached(id, socket, args, verb = "run") {
      const config = structuredClone(baseConfig);
      config.process.args = args;
      writeFileSync(join(dir, "config.json"), JSON.stringify(config));
      ids.push(id);
      bundle.runc([
        ...(verb === "run" ? ["run", "-d"] : ["create"]),
        "--bundle",
        dir,
        "--console-socket",
        socket,
        id,
      ]);
    },
    destroy() {
      for (const id of ids) {
        try {
          bundle.runc(["delete", "--force", id]);
        } catch {
          // Never created, or already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return bundle;
}

/** Resolves once `pred()` holds, polling; rejects after `timeoutMs` with `what` in the message. */
export async function until(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves with the exit code (or 128+signal) of a child. */
export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** Starts recvtty from its bin launcher. */
export function startRecvtty(args: string[], stdio: ("pipe" | "ignore" | number)[]): ChildProcess {
  return spawn(process.execPath, [recvttyBin, ...args], { stdio });
}

/** Kills a child if it still runs; for afterEach. */
export function killQuietly(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
