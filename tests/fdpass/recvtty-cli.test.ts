// recvtty's command-line behaviour: errors, signals, --no-stdin.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Bundle, ensureBuilt, exited, killQuietly, makeBundle, startRecvtty, until } from "./helpers.js";

let dir: string | undefined;
let bundle: Bundle | undefined;
const children: ChildProcess[] = [];

beforeAll(() => {
  ensureBuilt();
});
afterEach(() => {
  bundle?.destroy();
  bundle = undefined;
  for (const child of children.splice(0)) killQuietly(child);
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function output(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return { stdout: () => out, stderr: () => err };
}

describe("recvtty command line", () => {
  it("reports a socket it cannot create, and exits 1", async () => {
    const child = startRecvtty(["/nonexistent-dir/tty.sock"], ["ignore", "pipe", "pipe"]);
    children.push(child);
    const io = output(child);
    expect(await exited(child)).toBe(1);
    expect(io.stderr()).toBe("recvtty: bind /nonexistent-dir/tty.sock: ENOENT\n");
  });

  it("refuses a bad mode with usage", async () => {
    const child = startRecvtty(["--mode", "double", "x.sock"], ["ignore", "pipe", "pipe"]);
    children.push(child);
    const io = output(child);
    expect(await exited(child)).toBe(1);
    expect(io.stderr()).toMatch(/^recvtty: invalid mode "double"\nusage: recvtty /);
  });

  it.each(["single", "null"])(
    "mode %s: SIGTERM while waiting removes the socket and exits 143",
    async (mode) => {
      dir = mkdtempSync(join(tmpdir(), "recvtty-"));
      const socket = join(dir, "tty.sock");
      const pidFile = join(dir, "pid");
      const child = startRecvtty(["--mode", mode, "--pid-file", pidFile, socket], ["pipe", "pipe", "pipe"]);
      children.push(child);
      const io = output(child);
      await until("the pid file", () => existsSync(pidFile));
      expect(existsSync(socket)).toBe(true);
      child.kill("SIGTERM");
      expect(await exited(child)).toBe(143);
      expect(existsSync(socket)).toBe(false);
      expect(io.stderr()).toBe("");
    },
  );

  it("--no-stdin relays the container's output and ends with it", async () => {
    bundle = makeBundle();
    const b = bundle;
    const socket = join(b.dir, "tty.sock");
    const pidFile = join(b.dir, "pid");
    const child = startRecvtty(["--no-stdin", "--pid-file", pidFile, socket], ["pipe", "pipe", "pipe"]);
    children.push(child);
    const io = output(child);
    await until("the pid file", () => existsSync(pidFile));
    b.runDetached("recvtty-no-stdin", socket, ["sh", "-c", "echo from-$((40+2))"]);
    expect(await exited(child)).toBe(0);
    expect(io.stdout()).toBe("from-42\n");
    expect(io.stderr()).toBe("");
  });
});
