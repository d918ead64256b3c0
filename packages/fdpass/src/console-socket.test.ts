import { spawn } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recvConsole, sendConsole } from "./console-message.js";
import { ConsoleSocketServer, connectConsoleSocket } from "./console-socket.js";
import { FdPassError } from "./errors.js";
import { isCloexec } from "./fd.js";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM, sys } from "./libc.js";
import { sendFds } from "./send-recv.js";
import { socketpair } from "./socketpair.js";
import { leakedSince, openFds, pipe, untilIdle } from "./test-support.js";
import { unixAddress } from "./unix-address.js";
import { pollerState } from "./wait-readable.js";

let dir: string;
const cleanups: (() => void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fdpass-"));
});
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // Best effort: the test may have closed it already.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});
function closeLater(...fds: number[]): void {
  for (const fd of fds) cleanups.push(() => closeSync(fd));
}
function serve(path: string, opts?: { mode?: number }): ConsoleSocketServer {
  const server = ConsoleSocketServer.listen(path, opts);
  cleanups.push(() => server.close());
  return server;
}

/** A real pty master, opened the way runc's init does. */
function ptmx(): number {
  return openSync("/dev/ptmx", constants.O_RDWR | constants.O_NOCTTY);
}

/** Connects like runc in detached tty mode: send the master, close the socket. */
function runtimeSends(path: string, master: number, name: string): void {
  const sock = connectConsoleSocket(path);
  try {
    sendConsole(sock, master, name);
  } finally {
    closeSync(sock);
  }
}

describe("ConsoleSocketServer", () => {
  it("receives a pty master and its name from a runtime-style client", async () => {
    const server = serve(join(dir, "console.sock"), { mode: 0o600 });
    expect(statSync(server.path).isSocket()).toBe(true);
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
    const master = ptmx();
    closeLater(master);
    runtimeSends(server.path, master, "/dev/pts/99");
    const got = await server.accept();
    closeLater(got.fd);
    expect(got.name).toBe("/dev/pts/99");
    expect(isCloexec(got.fd)).toBe(true);
    // Same open file description as the one sent: a real tty.
    expect(statSync(`/proc/self/fd/${got.fd}`).rdev).toBe(statSync(`/proc/self/fd/${master}`).rdev);
  });

  it("listens and connects on a path longer than sun_path's 108 bytes", async () => {
    let deep = dir;
    while (deep.length < 150) deep = join(deep, "a-rather-long-directory-name");
    mkdirSync(deep, { recursive: true });
    const path = join(deep, "console.sock");
    expect(Buffer.byteLength(path)).toBeGreaterThan(108);
    const before = openFds();
    const server = ConsoleSocketServer.listen(path);
    expect(server.path).toBe(path);
    expect(statSync(path).isSocket()).toBe(true);
    const [r, w] = pipe();
    runtimeSends(path, w, "long");
    const got = await server.accept();
    expect(got.name).toBe("long");
    writeSync(got.fd, "ok");
    const buf = Buffer.alloc(2);
    readSync(r, buf);
    expect(buf.toString()).toBe("ok");
    for (const fd of [got.fd, r, w]) closeSync(fd);
    server.close();
    expect(existsSync(path)).toBe(false);
    await untilIdle();
    // The O_PATH directory fds used for bind and connect are gone too.
    expect(leakedSince(before)).toEqual([]);
  });

  it("accepts many connections, through the async iterator, until closed", async () => {
    const server = serve(join(dir, "many.sock"));
    const masters = Array.from({ length: 6 }, () => ptmx());
    closeLater(...masters);
    masters.forEach((m, i) => {
      runtimeSends(server.path, m, `/dev/pts/${i}`);
    });
    const names: string[] = [];
    for await (const { fd, name } of server) {
      closeSync(fd);
      names.push(name);
      if (names.length === masters.length) server.close();
    }
    expect(names).toEqual(masters.map((_, i) => `/dev/pts/${i}`));
  });

  it("waits for connections that come later, concurrently", async () => {
    const server = serve(join(dir, "later.sock"));
    const pending = [server.accept(), server.accept()];
    await new Promise((r) => setTimeout(r, 30));
    const [, w] = pipe();
    closeLater(w);
    runtimeSends(server.path, w, "a");
    runtimeSends(server.path, w, "b");
    const got = await Promise.all(pending);
    closeLater(...got.map((g) => g.fd));
    expect(got.map((g) => g.name).sort()).toEqual(["a", "b"]);
  });

  it("cancels a pending accept with an AbortSignal, leaking nothing and leaving the server usable", async () => {
    await untilIdle();
    const before = openFds();
    const server = ConsoleSocketServer.listen(join(dir, "abort.sock"));
    const controller = new AbortController();
    const pending = server.accept({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await untilIdle();
    const [r, w] = pipe();
    runtimeSends(server.path, w, "after abort");
    const got = await server.accept();
    expect(got.name).toBe("after abort");
    for (const fd of [got.fd, r, w]) closeSync(fd);
    server.close();
    await untilIdle();
    expect(leakedSince(before)).toEqual([]);
  });

  it("close() cancels pending accepts, unlinks the socket and frees the poll thread", async () => {
    await untilIdle();
    const before = openFds();
    const server = ConsoleSocketServer.listen(join(dir, "close.sock"));
    const pending = [server.accept(), server.accept()];
    await new Promise((r) => setTimeout(r, 20));
    expect(pollerState().polling).toBe(true);
    server.close();
    server.close();
    for (const p of pending) {
      await expect(p).rejects.toMatchObject({
        code: "ECLOSED",
        message: `accept ${server.path}: server closed`,
      });
    }
    expect(existsSync(server.path)).toBe(false);
    await expect(server.accept()).rejects.toMatchObject({ code: "ECLOSED" });
    await untilIdle();
    expect(leakedSince(before)).toEqual([]);
  });

  it("rejects a connection that sends no fd, two fds or nothing, and closes what came", async () => {
    const server = serve(join(dir, "bad.sock"));
    const [r, w] = pipe();
    closeLater(r, w);
    await untilIdle();
    const before = openFds();
    const cases: [string, (sock: number) => void][] = [
      ["ENOFD", (s) => sendFds(s, [], "/dev/pts/1")],
      ["ETOOMANYFDS", (s) => sendFds(s, [r, w], "/dev/pts/1")],
      ["ECTRUNC", (s) => sendFds(s, [r, w, r, w, r, w], "/dev/pts/1")],
      ["EPEERCLOSED", () => {}],
    ];
    for (const [code, misbehave] of cases) {
      const sock = connectConsoleSocket(server.path);
      misbehave(sock);
      closeSync(sock);
      const e = await server.accept().catch((err: unknown) => err);
      expect(e).toBeInstanceOf(FdPassError);
      expect((e as FdPassError).code).toBe(code);
    }
    await untilIdle();
    expect(leakedSince(before)).toEqual([]);
  });

  it("acceptConnection lets a caller serve peers concurrently, past one that never sends", async () => {
    const server = serve(join(dir, "conns.sock"));
    const silent = connectConsoleSocket(server.path);
    closeLater(silent);
    const [r, w] = pipe();
    closeLater(r, w);
    runtimeSends(server.path, w, "/dev/pts/5");
    const first = await server.acceptConnection();
    const second = await server.acceptConnection();
    closeLater(first, second);
    const controller = new AbortController();
    const stuck = recvConsole(first, { signal: controller.signal });
    const got = await recvConsole(second);
    closeLater(got.fd);
    expect(got.name).toBe("/dev/pts/5");
    expect(isCloexec(first)).toBe(true);
    controller.abort();
    await expect(stuck).rejects.toMatchObject({ name: "AbortError" });
  });

  it("the iterator throws for a bad peer and the server keeps serving", async () => {
    const server = serve(join(dir, "iter.sock"));
    const bad = connectConsoleSocket(server.path);
    sendFds(bad, [], "no fd here");
    closeSync(bad);
    const [r, w] = pipe();
    closeLater(r, w);
    runtimeSends(server.path, w, "good");
    const it = server[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: "ENOFD" });
    const next = await it.next();
    expect(next.done).toBe(false);
    closeLater(next.value!.fd);
    expect(next.value!.name).toBe("good");
    server.close();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("refuses a path that already exists", () => {
    const path = join(dir, "taken.sock");
    serve(path);
    expect(() => ConsoleSocketServer.listen(path)).toThrow(`bind ${path}: EADDRINUSE`);
  });
});

describe("connectConsoleSocket", () => {
  it("gives a clear error for a path with nothing behind it", () => {
    const missing = join(dir, "missing.sock");
    expect(() => connectConsoleSocket(missing)).toThrow(`connect ${missing}: ENOENT`);
  });

  it("gives ECONNREFUSED for a socket file whose server is gone", () => {
    const path = join(dir, "stale.sock");
    // A crashed server leaves its socket file behind with nobody listening.
    const fd = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const address = unixAddress(path, "bind");
    expect(sys.bind(fd, address.addr, address.len)).toBe(0);
    closeSync(fd);
    expect(statSync(path).isSocket()).toBe(true);
    expect(() => connectConsoleSocket(path)).toThrow(`connect ${path}: ECONNREFUSED`);
  });

  it("returns a close-on-exec stream socket", () => {
    const server = serve(join(dir, "c.sock"));
    const fd = connectConsoleSocket(server.path);
    closeLater(fd);
    expect(isCloexec(fd)).toBe(true);
    expect(statSync(`/proc/self/fd/${fd}`).isSocket()).toBe(true);
  });
});

describe("interop with an independent implementation (Python's socket.send_fds/recv_fds)", () => {
  function python(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn("python3", ["-c", script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, out }));
    });
  }

  it("receives a master sent by a Python client", async () => {
    const server = serve(join(dir, "py.sock"));
    const sender = python(
      `import os, socket, sys
m, slave = os.openpty()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
socket.send_fds(s, [os.ttyname(slave).encode()], [m])`,
      [server.path],
    );
    const got = await server.accept();
    closeLater(got.fd);
    expect((await sender).code).toBe(0);
    expect(got.name).toMatch(/^\/dev\/pts\/\d+$/);
  });

  it("sends a master that a Python server receives with its name", async () => {
    const path = join(dir, "py-server.sock");
    const receiver = python(
      `import os, socket, sys
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(sys.argv[1]); l.listen(1)
print("ready", flush=True)
c, _ = l.accept()
msg, fds, flags, _ = socket.recv_fds(c, 4096, 4)
print(msg.decode(), len(fds), os.isatty(fds[0]), flush=True)`,
      [path],
    );
    while (!existsSync(path)) await new Promise((r) => setTimeout(r, 10));
    const master = ptmx();
    closeLater(master);
    await new Promise((r) => setTimeout(r, 50));
    runtimeSends(path, master, "/dev/pts/7");
    const { code, out } = await receiver;
    expect(code).toBe(0);
    expect(out).toBe("ready\n/dev/pts/7 1 True\n");
  });
});

describe("recvConsole", () => {
  it("strips a trailing NUL that C senders sometimes include", async () => {
    const [a, b] = socketpair();
    closeLater(a, b);
    const [, w] = pipe();
    closeLater(w);
    sendFds(a, [w], "/dev/pts/3\0");
    const got = await recvConsole(b);
    closeLater(got.fd);
    expect(got.name).toBe("/dev/pts/3");
  });

  it("ETRUNC for a name of 4096 bytes or more on a stream socket, closing the fd", async () => {
    const [a, b] = socketpair();
    closeLater(a, b);
    const [r, w] = pipe();
    closeLater(r, w);
    await untilIdle();
    const before = openFds();
    sendFds(a, [w], "n".repeat(4096));
    await expect(recvConsole(b)).rejects.toMatchObject({ code: "ETRUNC" });
    expect(leakedSince(before)).toEqual([]);
  });

  it("refuses to send an empty or over-long name", () => {
    const [a, b] = socketpair();
    closeLater(a, b);
    expect(() => sendConsole(a, 0, "")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => sendConsole(a, 0, "x".repeat(4096))).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});
