import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Console, consoleFromFd, createRelay, newPty } from "./index.js";
import { sysCfmakeraw, sysTcgetattr, sysTcsetattr } from "./libc.js";
import { countFds, exited, isNonBlocking, pipe, readFor, sleep, until } from "./test-utils.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function pair(): { master: Console; slaveFd: number; slavePath: string } {
  const { master, slavePath } = newPty();
  const slaveFd = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
  cleanups.push(() => master.close());
  return { master, slaveFd, slavePath };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** Fully raw, output processing off too, so arbitrary bytes cross the pty unchanged. */
function makeTransparent(fd: number): void {
  sysTcsetattr(fd, sysCfmakeraw(sysTcgetattr(fd)));
}

/** A Writable that hashes what it gets; `delayMs` makes it a slow consumer. */
function hashingSink(delayMs = 0): { stream: Writable; bytes: () => number; digest: () => string } {
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      if (delayMs > 0) setTimeout(cb, delayMs);
      else cb();
    },
  });
  return { stream, bytes: () => bytes, digest: () => hash.digest("hex") };
}

const BIG = 10 * 1024 * 1024;
let bigFile: string;
let bigDigest: string;

beforeAll(() => {
  const data = randomBytes(BIG);
  bigFile = join(tmpdir(), `tsrun-console-relay-${process.pid}.bin`);
  writeFileSync(bigFile, data);
  bigDigest = createHash("sha256").update(data).digest("hex");
});
afterAll(() => {
  try {
    closeSync(openSync(bigFile, "r"));
  } catch {}
});

/** Spawns `cat file` on the pty's slave, then closes the test's slave fd: EIO follows cat's exit. */
function catOnSlave(slaveFd: number, file: string) {
  makeTransparent(slaveFd);
  const child = spawn("cat", [file], { stdio: ["ignore", slaveFd, "inherit"] });
  closeSync(slaveFd);
  return child;
}

describe("relay: master → output", () => {
  it("carries 10 MiB from a child to a stream, complete, ending on EIO", async () => {
    const { master, slaveFd } = pair();
    const sink = hashingSink();
    const t0 = Date.now();
    const relay = createRelay(master, { output: sink.stream });
    const child = catOnSlave(slaveFd, bigFile);
    await relay.done;
    expect((await exited(child)).code).toBe(0);
    expect(sink.bytes()).toBe(BIG);
    expect(relay.bytesOut).toBe(BIG);
    expect(sink.digest()).toBe(bigDigest);
    expect(relay.outputError).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("loses nothing to a slow consumer when EIO arrives while paused", async () => {
    const { master, slaveFd } = pair();
    const file = join(tmpdir(), `tsrun-console-relay-small-${process.pid}.bin`);
    const data = randomBytes(1024 * 1024);
    writeFileSync(file, data);
    const sink = hashingSink(1);
    const relay = createRelay(master, { output: sink.stream });
    const child = catOnSlave(slaveFd, file);
    await relay.done;
    await exited(child);
    expect(sink.bytes()).toBe(data.length);
    expect(sink.digest()).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("carries 10 MiB to an output fd, complete", async () => {
    const { master, slaveFd } = pair();
    const outPath = join(tmpdir(), `tsrun-console-relay-out-${process.pid}.bin`);
    const outFd = openSync(outPath, "w");
    cleanups.push(() => closeQuietly(outFd));
    const relay = createRelay(master.fd, { output: outFd });
    const child = catOnSlave(slaveFd, bigFile);
    await relay.done;
    await exited(child);
    expect(isNonBlocking(outFd)).toBe(false);
    const got = readFileSync(outPath);
    expect(got.length).toBe(BIG);
    expect(createHash("sha256").update(got).digest("hex")).toBe(bigDigest);
  });

  it("shutdown() drains what the kernel still holds, then resolves", async () => {
    const { master, slaveFd } = pair();
    cleanups.push(() => closeQuietly(slaveFd));
    master.clearONLCR();
    const chunks: Buffer[] = [];
    const output = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    });
    const relay = createRelay(master, { output });
    writeSync(slaveFd, "first\n");
    await sleep(50);
    writeSync(slaveFd, "last\n");
    relay.shutdown();
    await relay.done;
    expect(Buffer.concat(chunks).toString()).toBe("first\nlast\n");
    // The slave is still open: shutdown, not EIO, ended it.
    writeSync(slaveFd, "after\n");
    expect((await readFor(master.fd, 6)).toString()).toBe("after\n");
  });

  it("shutdown() ends even while the program keeps writing", async () => {
    const { master, slaveFd } = pair();
    const sink = hashingSink();
    const relay = createRelay(master, { output: sink.stream });
    const child = spawn("cat", ["/dev/zero"], { stdio: ["ignore", slaveFd, "inherit"] });
    closeSync(slaveFd);
    await sleep(50);
    const t0 = Date.now();
    relay.shutdown();
    await relay.done;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(sink.bytes()).toBe(relay.bytesOut);
    expect(sink.bytes()).toBeGreaterThan(0);
    child.kill("SIGKILL");
    await exited(child);
  });

  it("finishes when the output stream is destroyed early", async () => {
    const { master, slaveFd } = pair();
    let seen = 0;
    const output = new Writable({
      write(c: Buffer, _e, cb) {
        seen += c.length;
        if (seen > 256 * 1024) output.destroy();
        cb();
      },
    });
    const relay = createRelay(master, { output });
    const child = spawn("cat", ["/dev/zero"], { stdio: ["ignore", slaveFd, "inherit"] });
    closeSync(slaveFd);
    const t0 = Date.now();
    await relay.done;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(relay.outputError?.message).toBe("write: output closed");
    child.kill("SIGKILL");
    await exited(child);
  });

  it("finishes when the output fd's reader goes away (EPIPE)", async () => {
    const { master, slaveFd } = pair();
    const [r, w] = pipe();
    cleanups.push(() => closeQuietly(w));
    const relay = createRelay(master, { output: w });
    const child = spawn("cat", ["/dev/zero"], { stdio: ["ignore", slaveFd, "inherit"] });
    closeSync(slaveFd);
    await readFor(r, 4096);
    closeSync(r);
    await relay.done;
    expect((relay.outputError as { code?: string }).code).toBe("EPIPE");
    expect(relay.outputError?.message).toBe(`write fd ${w}: EPIPE`);
    child.kill("SIGKILL");
    await exited(child);
  });
});

describe("relay: input → master", () => {
  it("copies a stream to the master", async () => {
    const { master, slaveFd } = pair();
    cleanups.push(() => closeQuietly(slaveFd));
    makeTransparent(slaveFd);
    const input = new PassThrough();
    const relay = createRelay(master, { input, output: new PassThrough() });
    input.write("typed\n");
    expect((await readFor(slaveFd, 6)).toString()).toBe("typed\n");
    relay.shutdown();
    await relay.done;
    expect(relay.bytesIn).toBe(6);
    expect(input.isPaused()).toBe(true);
  });

  it("waits out EAGAIN on a full master and delivers all input in order", async () => {
    const { master, slaveFd } = pair();
    cleanups.push(() => closeQuietly(slaveFd));
    makeTransparent(slaveFd);
    const data = randomBytes(512 * 1024);
    const input = new PassThrough();
    const relay = createRelay(master, { input, output: new PassThrough() });
    input.end(data);
    // Nobody reads the slave yet: the pty fills up (a few KiB) and the master's writes get EAGAIN.
    await sleep(50);
    const got = await readFor(slaveFd, data.length, 5000);
    expect(got.length).toBe(data.length);
    expect(got.equals(data)).toBe(true);
    expect(relay.bytesIn).toBe(data.length);
    relay.shutdown();
    await relay.done;
  });

  it("reads a terminal fd without touching its O_NONBLOCK, both ways", async () => {
    // `user` plays the user's terminal: its slave fd is what a shell would have on fds 0 and 1.
    const user = pair();
    const inner = pair();
    cleanups.push(() => closeQuietly(inner.slaveFd));
    cleanups.push(() => closeQuietly(user.slaveFd));
    makeTransparent(inner.slaveFd);
    makeTransparent(user.slaveFd);
    expect(isNonBlocking(user.slaveFd)).toBe(false);
    const relay = createRelay(inner.master, { input: user.slaveFd, output: user.slaveFd });
    await sleep(20);
    writeSync(user.master.fd, "keys");
    expect((await readFor(inner.slaveFd, 4)).toString()).toBe("keys");
    writeSync(inner.slaveFd, "screen");
    expect((await readFor(user.master.fd, 6)).toString()).toBe("screen");
    expect(isNonBlocking(user.slaveFd)).toBe(false);
    relay.shutdown();
    await relay.done;
    expect(isNonBlocking(user.slaveFd)).toBe(false);
    expect(isNonBlocking(inner.master.fd)).toBe(false);
  });

  it("reads a pipe fd with blocking reads, flags unchanged", async () => {
    const { master, slaveFd } = pair();
    cleanups.push(() => closeQuietly(slaveFd));
    makeTransparent(slaveFd);
    const [r, w] = pipe();
    cleanups.push(() => closeQuietly(r));
    const relay = createRelay(master, { input: r, output: new PassThrough() });
    writeSync(w, "piped");
    expect((await readFor(slaveFd, 5)).toString()).toBe("piped");
    closeSync(w);
    relay.shutdown();
    await relay.done;
    expect(isNonBlocking(r)).toBe(false);
  });
});

describe("relay: resources", () => {
  it("closes every fd it opened once done", async () => {
    // Let blocking reads left by earlier tests (their writers are closed) return and drop their fds.
    await sleep(100);
    const before = countFds();
    for (const input of ["tty", "tty", "tty", "pipe", "pipe", "pipe"]) {
      const { master, slavePath } = newPty();
      const slaveFd = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
      const user = newPty();
      const userSlave = openSync(user.slavePath, constants.O_RDWR | constants.O_NOCTTY);
      const [r, w] = pipe();
      const relay = createRelay(master, {
        input: input === "tty" ? userSlave : r,
        output: new PassThrough(),
      });
      writeSync(slaveFd, "x");
      closeSync(slaveFd);
      await relay.done;
      for (const fd of [userSlave, r, w]) closeSync(fd);
      user.master.close();
      master.close();
      // A terminal input is closed by the time done resolves.
      if (input === "tty") expect(countFds()).toBe(before);
    }
    // A pipe input's blocking read ends when its writer closes, and then drops its fd.
    expect(await until(() => countFds() === before)).toBe(true);
  });

  it("refuses a master that is not a terminal", () => {
    const fd = openSync("/dev/null", "r");
    cleanups.push(() => closeSync(fd));
    expect(() => createRelay(fd, { output: new PassThrough() })).toThrow("tcgetattr /dev/null: ENOTTY");
    expect(() => consoleFromFd(fd)).toThrow();
  });
});
