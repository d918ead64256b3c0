import { closeSync, constants, openSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type Console, newPty } from "./index.js";
import { getTermios, ICANON, type Termios } from "./termios.js";
import { exited, firstLine, isNonBlocking, readUntil, runFixture } from "./test-utils.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function pair(): { master: Console; slaveFd: number } {
  const { master, slavePath } = newPty();
  const slaveFd = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
  cleanups.push(() => master.close());
  cleanups.push(() => closeSync(slaveFd));
  return { master, slaveFd };
}

function same(a: Termios, b: Termios): void {
  expect({ ...a, cc: a.cc.join(",") }).toEqual({ ...b, cc: b.cc.join(",") });
}

// The child puts its stdin terminal in raw mode, registers restoreOnExit, says "raw", then `then` runs.
const rawThen = (then: string): string => `
const c = C.consoleFromFd(0);
C.restoreOnExit(c);
c.setRaw();
console.log("raw");
${then}
`;

async function rawChild(then: string) {
  const { slaveFd } = pair();
  const before = getTermios(slaveFd);
  const child = await runFixture(rawThen(then), [slaveFd, "pipe", "pipe"]);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  expect(await firstLine(child)).toBe("raw");
  // The change really happened, so the restore below is not vacuous.
  expect(getTermios(slaveFd).lflag & ICANON).toBe(0);
  return { child, slaveFd, before, stderr: () => stderr };
}

describe("restoreOnExit", () => {
  it("restores the terminal when the program is killed with SIGTERM, and dies of it", async () => {
    const { child, slaveFd, before } = await rawChild("setInterval(() => {}, 1000);");
    child.kill("SIGTERM");
    expect(await exited(child)).toEqual({ code: null, signal: "SIGTERM" });
    same(getTermios(slaveFd), before);
  });

  it("restores the terminal on SIGINT", async () => {
    const { child, slaveFd, before } = await rawChild("setInterval(() => {}, 1000);");
    child.kill("SIGINT");
    expect(await exited(child)).toEqual({ code: null, signal: "SIGINT" });
    same(getTermios(slaveFd), before);
  });

  it("restores the terminal on SIGHUP", async () => {
    const { child, slaveFd, before } = await rawChild("setInterval(() => {}, 1000);");
    child.kill("SIGHUP");
    expect(await exited(child)).toEqual({ code: null, signal: "SIGHUP" });
    same(getTermios(slaveFd), before);
  });

  it("restores the terminal on a thrown error", async () => {
    const { child, slaveFd, before, stderr } = await rawChild(
      "setTimeout(() => { throw new Error('boom'); }, 10);",
    );
    expect(await exited(child)).toEqual({ code: 1, signal: null });
    expect(stderr()).toContain("boom");
    same(getTermios(slaveFd), before);
  });

  it("restores the terminal on a normal exit", async () => {
    const { child, slaveFd, before } = await rawChild("setTimeout(() => {}, 10);");
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    same(getTermios(slaveFd), before);
  });

  it("leaves a signal with its own listener to that listener, and stops after dispose()", async () => {
    const { child, slaveFd, before } = await rawChild(`
const h = C.restoreOnExit(c);
h.dispose();
process.on("SIGTERM", () => { console.log("mine"); });
setInterval(() => {}, 1000);
`);
    const line = new Promise<string>((resolve) =>
      child.stdout?.once("data", (d: Buffer) => resolve(d.toString())),
    );
    child.kill("SIGTERM");
    expect(await line).toBe("mine\n");
    expect(getTermios(slaveFd).lflag & ICANON).toBe(0);
    child.kill("SIGKILL");
    await exited(child);
    expect(getTermios(slaveFd).lflag & ICANON).toBe(0);
    // Put it back by hand for the next test's sake (the pty is new anyway).
    expect(before.lflag & ICANON).not.toBe(0);
  });
});

describe("a raw-mode relay program (README example shape)", () => {
  it("relays a shell both ways, then leaves the user's terminal as it was, blocking", async () => {
    const user = pair();
    const before = getTermios(user.slaveFd);
    const program = `
import { spawn } from "node:child_process";
import { openSync, closeSync, constants } from "node:fs";
const host = C.current();
C.restoreOnExit(host);
const { master, slavePath } = C.newPty();
master.clearONLCR();
master.resizeFrom(host);
const slave = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
const sh = spawn("sh", ["-c", "stty size; printf 'ready\\\\n'; read x; echo got:$x"], { stdio: [slave, slave, slave], detached: true });
closeSync(slave);
host.setRaw();
const relay = C.createRelay(master, { input: 0, output: 1 });
const code = await new Promise((r) => sh.on("exit", r));
await relay.done;
master.close();
host.reset();
process.exitCode = code;
`;
    user.master.resize({ rows: 27, cols: 91 });
    const child = await runFixture(program, [user.slaveFd, user.slaveFd, "inherit"]);
    const greeting = await readUntil(user.master.fd, "ready");
    expect(greeting).toContain("27 91");
    expect(greeting).toContain("ready");
    // Raw on the host side: the relay, not the user's line discipline, carries "hello\r".
    expect(getTermios(user.slaveFd).lflag & ICANON).toBe(0);
    const { writeSync } = await import("node:fs");
    writeSync(user.master.fd, "hello\r");
    const rest = await readUntil(user.master.fd, "got:hello");
    expect(rest).toContain("got:hello");
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    same(getTermios(user.slaveFd), before);
    // The child's fds 0 and 1 share this file description: the relay left it blocking.
    expect(isNonBlocking(user.slaveFd)).toBe(false);
  });
});
