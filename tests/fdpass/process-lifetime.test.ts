// A pending wait must neither keep a finished program alive nor stop it from exiting: libuv joins
// its threadpool at exit, so a thread parked in poll() would hang process.exit() forever.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureBuilt, repo } from "./helpers.js";

const dist = join(repo, "packages/fdpass/dist/index.js");
let dir: string;

beforeAll(() => {
  ensureBuilt();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fdpass-exit-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runScript(
  body: string,
): Promise<{ code: number | null; signal: string | null; ms: number; stderr: string }> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", `import * as fdpass from ${JSON.stringify(dist)};\n${body}`],
    {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, ms: Date.now() - started, stderr });
    });
  });
}

describe("process lifetime", () => {
  it("process.exit() returns promptly while accepts and receives are pending", async () => {
    const result = await runScript(`
      const server = fdpass.ConsoleSocketServer.listen("pending.sock");
      server.accept().catch(() => {});
      const [, b] = fdpass.socketpair("seqpacket");
      fdpass.recvFds(b).catch(() => {});
      setTimeout(() => process.exit(7), 200);
    `);
    expect(result).toMatchObject({ code: 7, signal: null });
    expect(result.ms).toBeLessThan(5_000);
  });

  it("an uncaught exception with a pending accept still ends the process", async () => {
    const result = await runScript(`
      const server = fdpass.ConsoleSocketServer.listen("pending.sock");
      server.accept().catch(() => {});
      setTimeout(() => { throw new Error("expected failure in the test script"); }, 200);
    `);
    expect(result).toMatchObject({ code: 1, signal: null });
    expect(result.stderr).toContain("expected failure in the test script");
  });

  it("a program whose waits were cancelled and server closed ends on its own", async () => {
    const result = await runScript(`
      const server = fdpass.ConsoleSocketServer.listen("closed.sock");
      const controller = new AbortController();
      const a = server.accept({ signal: controller.signal }).catch((e) => e.name);
      const b = server.accept().catch((e) => e.code);
      setTimeout(() => controller.abort(), 100);
      setTimeout(() => server.close(), 150);
      const results = await Promise.all([a, b]);
      if (results.join() !== "AbortError,ECLOSED") process.exit(9);
      // No process.exit: the event loop must drain by itself.
    `);
    expect(result).toMatchObject({ code: 0, signal: null });
  });
});
