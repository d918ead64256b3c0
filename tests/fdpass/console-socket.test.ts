// Interop with a real runtime: Debian's runc sends a container's pty master to our console
// socket, served either by the recvtty tool (a separate process) or by the package API.
import type { ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import tty from "node:tty";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { newPty } from "../../packages/console/src/index.js";
import { ConsoleSocketServer, connectConsoleSocket } from "../../packages/fdpass/src/index.js";
import { type Bundle, ensureBuilt, exited, killQuietly, makeBundle, startRecvtty, until } from "./helpers.js";

const COMMAND = "echo hi-$((6*7))\n";

let bundle: Bundle | undefined;
const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];

beforeAll(() => {
  ensureBuilt();
});

afterEach(() => {
  // Containers first: a relay waiting on a master ends when its container is gone.
  bundle?.destroy();
  bundle = undefined;
  for (const child of children.splice(0)) killQuietly(child);
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // Already closed by the test.
    }
  }
});

/** The pty masters a process holds open. */
function ptyFds(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.includes("ptmx")) out.push(`${fd} -> ${target}`);
    } catch {
      // Closed while we looked.
    }
  }
  return out;
}

function collect(stream: NodeJS.ReadableStream | null): { text: () => string } {
  let text = "";
  stream?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return { text: () => text };
}

describe("recvtty with runc", () => {
  it("single mode, driven through pipes: a typed command's output comes back", async () => {
    bundle = makeBundle();
    const b = bundle;
    const socket = join(b.dir, "console.sock");
    const pidFile = join(b.dir, "recvtty.pid");
    const recvtty = startRecvtty(["--pid-file", pidFile, socket], ["pipe", "pipe", "pipe"]);
    children.push(recvtty);
    const out = collect(recvtty.stdout);
    const err = collect(recvtty.stderr);
    await until("recvtty's pid file", () => existsSync(pidFile));
    expect(readFileSync(pidFile, "utf8")).toBe(String(recvtty.pid));

    // Started only once recvtty holds the master (and so has cleared ONLCR): an interactive shell snapshots the
    // termios when it starts and puts that back after every line it reads.
    b.runDetached("fdpass-single", socket, ["sh"], "create");
    await until("recvtty to hold the master", () => ptyFds(recvtty.pid!).length > 0);
    b.runc(["start", "fdpass-single"]);
    recvtty.stdin!.write(COMMAND);
    await until("hi-42 from the container", () => out.text().includes("hi-42"));
    // The listener is closed once the one connection is in, and its path removed.
    expect(existsSync(socket)).toBe(false);
    // ONLCR is cleared on the master: output lines end in \n alone.
    expect(out.text()).toMatch(/hi-42\n/);
    expect(out.text()).not.toContain("\r\n");

    recvtty.stdin!.write("exit\n");
    expect(await exited(recvtty)).toBe(0);
    expect(err.text()).toBe("");
    await until("the container to stop", () => b.runc(["state", "fdpass-single"]).includes('"stopped"'));
  });

  it("single mode, driven through a pty from @tsrun/console", async () => {
    bundle = makeBundle();
    const b = bundle;
    const socket = join(b.dir, "console.sock");
    const pidFile = join(b.dir, "recvtty.pid");
    const outer = newPty();
    cleanups.push(() => outer.master.close());
    const slave = openSync(outer.slavePath, "r+");
    const recvtty = startRecvtty(["--pid-file", pidFile, socket], [slave, slave, "pipe"]);
    children.push(recvtty);
    closeSync(slave);
    const reader = new tty.ReadStream(outer.master.fd);
    // The stream does not own the master: outer.master.close() does.
    cleanups.push(() => reader.removeAllListeners("data").pause());
    const out = collect(reader);
    reader.on("error", () => {});
    await until("recvtty's pid file", () => existsSync(pidFile));

    b.runDetached("fdpass-pty", socket, ["sh"]);
    writeSync(outer.master.fd, COMMAND);
    await until("hi-42 from the container", () => out.text().includes("hi-42"));
    writeSync(outer.master.fd, "exit\n");
    expect(await exited(recvtty)).toBe(0);
  });

  it("null mode accepts two containers' masters and drains them", async () => {
    bundle = makeBundle();
    const b = bundle;
    const socket = join(b.dir, "console.sock");
    const pidFile = join(b.dir, "recvtty.pid");
    const recvtty = startRecvtty(
      ["--mode", "null", "--pid-file", pidFile, socket],
      ["ignore", "pipe", "pipe"],
    );
    children.push(recvtty);
    const out = collect(recvtty.stdout);
    const err = collect(recvtty.stderr);
    await until("recvtty's pid file", () => existsSync(pidFile));

    // A peer that connects and never sends must not hold up the containers behind it.
    const silent = connectConsoleSocket(socket);
    cleanups.push(() => closeSync(silent));

    // Each container writes far more than a pty buffers (about 4 KiB on the slave side, 64 KiB
    // in flight), then leaves a marker: the marker appears only if recvtty kept reading.
    for (const id of ["fdpass-null-1", "fdpass-null-2"]) {
      b.runDetached(id, socket, [
        "sh",
        "-c",
        `head -c 1000000 /dev/zero | tr '\\0' x; echo > /tmp/${id}.done`,
      ]);
    }
    await until("both containers to finish writing", () =>
      ["fdpass-null-1", "fdpass-null-2"].every((id) => existsSync(join(b.dir, "rootfs/tmp", `${id}.done`))),
    );
    // Both masters were received, drained to their end and closed again.
    await until("recvtty to close the masters", () => ptyFds(recvtty.pid!).length === 0);
    expect(recvtty.exitCode).toBe(null);
    expect(existsSync(socket)).toBe(true);

    recvtty.kill("SIGTERM");
    expect(await exited(recvtty)).toBe(143);
    expect(existsSync(socket)).toBe(false);
    expect(out.text()).toBe("");
    expect(err.text()).toBe("");
  });
});

describe("@tsrun/fdpass with runc", () => {
  it("ConsoleSocketServer receives the master from runc; a command written to it is answered", async () => {
    bundle = makeBundle();
    const b = bundle;
    // runc dials with Go's net package, which refuses paths beyond sun_path, so no long path here.
    const socket = join(b.dir, "console.sock");
    const server = ConsoleSocketServer.listen(socket, { mode: 0o600 });
    cleanups.push(() => server.close());
    const pending = server.accept({ signal: AbortSignal.timeout(20_000) });

    b.runDetached("fdpass-api", socket, ["sh"]);
    const { fd, name } = await pending;
    // runc 1.1 names the master after the file it opened (/dev/ptmx); later versions send /dev/pts/N.
    expect(name).toMatch(/^\/dev\/(ptmx|pts\/\d+)$/);
    const master = new tty.ReadStream(fd);
    cleanups.push(() => master.destroy());
    master.on("error", () => {});
    const out = collect(master);
    writeSync(fd, COMMAND);
    await until("hi-42 from the container", () => out.text().includes("hi-42"));
  });
});
