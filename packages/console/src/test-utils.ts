// Helpers for this package's tests (not part of the published API; tsup bundles only index.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import koffi from "koffi";
import { getFileFlags, O_NONBLOCK, setFileFlags } from "./libc.js";

export function countFds(): number {
  return readdirSync("/proc/self/fd").length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until(check: () => boolean, ms = 1000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(5);
  }
  return check();
}

export function isNonBlocking(fd: number): boolean {
  return (getFileFlags(fd) & O_NONBLOCK) !== 0;
}

/** Reads from `fd` until `want` bytes arrived or `timeoutMs` passed; leaves O_NONBLOCK as it found it. */
export function readFor(fd: number, want: number, timeoutMs = 2000): Promise<Buffer> {
  return readWhile(fd, (got) => got.length < want, timeoutMs);
}

/** Reads from `fd` until the text read so far contains `text`, or `timeoutMs` passed. */
export async function readUntil(fd: number, text: string, timeoutMs = 3000): Promise<string> {
  return (await readWhile(fd, (got) => !got.toString().includes(text), timeoutMs)).toString();
}

async function readWhile(fd: number, more: (got: Buffer) => boolean, timeoutMs: number): Promise<Buffer> {
  const flags = getFileFlags(fd);
  setFileFlags(fd, flags | O_NONBLOCK);
  const chunks: Buffer[] = [];
  const deadline = Date.now() + timeoutMs;
  const buf = Buffer.alloc(65536);
  try {
    while (more(Buffer.concat(chunks)) && Date.now() < deadline) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        await sleep(5);
      }
    }
  } finally {
    setFileFlags(fd, flags);
  }
  return Buffer.concat(chunks);
}

let libc: { pipe2: (fds: Buffer, flags: number) => number } | undefined;

/** A pipe, both ends close-on-exec: [read, write]. */
export function pipe(): [number, number] {
  libc ??= { pipe2: koffi.load("libc.so.6").func("pipe2", "int", ["void *", "int"]) };
  const fds = Buffer.alloc(8);
  if (libc.pipe2(fds, 0o2000000) !== 0) throw new Error(`pipe2: errno ${koffi.errno()}`);
  return [fds.readInt32LE(0), fds.readInt32LE(4)];
}

interface Esbuild {
  build(opts: {
    entryPoints: string[];
    bundle: boolean;
    format: "esm";
    platform: "node";
    outfile: string;
    logLevel: "silent";
    plugins: {
      name: string;
      setup(b: {
        onResolve(o: { filter: RegExp }, cb: () => { path: string; external: boolean }): void;
      }): void;
    }[];
  }): Promise<unknown>;
}

let bundled: Promise<string> | undefined;

/**
 * This package's source bundled into one .mjs (koffi left external, by absolute path) so that a child
 * `node` can import it without a prior build.
 */
export function bundle(): Promise<string> {
  bundled ??= (async () => {
    const req = createRequire(import.meta.url);
    // esbuild comes with tsup, the workspace's build tool.
    const esbuild = createRequire(req.resolve("tsup"))("esbuild") as Esbuild;
    const koffiPath = req.resolve("koffi");
    const dir = await mkdtemp(join(tmpdir(), "tsrun-console-"));
    const outfile = join(dir, "console.mjs");
    await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./index.ts", import.meta.url))],
      bundle: true,
      format: "esm",
      platform: "node",
      outfile,
      logLevel: "silent",
      plugins: [
        {
          name: "koffi-absolute",
          setup(b) {
            b.onResolve({ filter: /^koffi$/ }, () => ({ path: koffiPath, external: true }));
          },
        },
      ],
    });
    return outfile;
  })();
  return bundled;
}

/** Runs `code` (an ES module; `C` is this package) in a child node with the given stdio. */
export async function runFixture(
  code: string,
  stdio: (number | "pipe" | "ignore" | "inherit")[],
  opts: { detached?: boolean } = {},
): Promise<ChildProcess> {
  const path = await bundle();
  const src = `import * as C from ${JSON.stringify(path)};\n${code}`;
  return spawn(process.execPath, ["--input-type=module", "-e", src], {
    stdio,
    detached: opts.detached ?? false,
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/** Resolves with the first line the child prints on stdout. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let acc = "";
    child.stdout?.on("data", (d: Buffer) => {
      acc += d.toString();
      const i = acc.indexOf("\n");
      if (i >= 0) resolve(acc.slice(0, i));
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) before a line: ${acc}`)),
    );
  });
}
