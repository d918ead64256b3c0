import { closeSync, constants, openSync, writeSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type Console, ConsoleError, consoleFromFd, NotAConsoleError, newPty } from "./index.js";
import {
  ECHO,
  getTermios,
  ICANON,
  ICRNL,
  IEXTEN,
  ISIG,
  IXON,
  ONLCR,
  OPOST,
  type Termios,
} from "./termios.js";
import { countFds, exited, firstLine, readFor, runFixture } from "./test-utils.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A new pty with its slave opened; both closed after the test. */
function pair(): { master: Console; slave: Console; slaveFd: number; slavePath: string } {
  const { master, slavePath } = newPty();
  const slaveFd = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
  cleanups.push(() => master.close());
  cleanups.push(() => closeSync(slaveFd));
  return { master, slave: consoleFromFd(slaveFd), slaveFd, slavePath };
}

function expectSameTermios(actual: Termios, expected: Termios): void {
  expect(actual.iflag).toBe(expected.iflag);
  expect(actual.oflag).toBe(expected.oflag);
  expect(actual.cflag).toBe(expected.cflag);
  expect(actual.lflag).toBe(expected.lflag);
  expect(actual.line).toBe(expected.line);
  expect(actual.cc).toEqual(expected.cc);
  expect(actual.ispeed).toBe(expected.ispeed);
  expect(actual.ospeed).toBe(expected.ospeed);
}

describe("newPty", () => {
  it("returns an unlocked master whose slave carries bytes to it", async () => {
    const { master, slaveFd, slavePath } = pair();
    expect(slavePath).toMatch(/^\/dev\/pts\/\d+$/);
    expect(master.name).toBe("/dev/ptmx");
    expect(master.owned).toBe(true);
    writeSync(slaveFd, "hello");
    expect((await readFor(master.fd, 5)).toString()).toBe("hello");
  });

  it("turns \\n into \\r\\n until clearONLCR()", async () => {
    const { master, slaveFd } = pair();
    writeSync(slaveFd, "a\nb\n");
    expect((await readFor(master.fd, 6)).toString()).toBe("a\r\nb\r\n");
    master.clearONLCR();
    expect(getTermios(slaveFd).oflag & ONLCR).toBe(0);
    writeSync(slaveFd, "c\nd\n");
    expect((await readFor(master.fd, 4, 300)).toString()).toBe("c\nd\n");
  });

  it("leaks no fd over 200 open/close cycles", () => {
    const before = countFds();
    for (let i = 0; i < 200; i++) newPty().master.close();
    expect(countFds()).toBe(before);
  });
});

describe("termios", () => {
  it("setRaw is cfmakeraw with OPOST kept, and reset restores every field", () => {
    const { slave, slaveFd } = pair();
    const before = getTermios(slaveFd);
    expect(before.lflag & ICANON).not.toBe(0);
    slave.setRaw();
    const raw = getTermios(slaveFd);
    expect(raw.iflag & (ICRNL | IXON)).toBe(0);
    expect(raw.lflag & (ECHO | ICANON | ISIG | IEXTEN)).toBe(0);
    expect(raw.cflag & 0o60).toBe(0o60); // CS8
    expect(raw.oflag & OPOST).toBe(OPOST);
    expect(raw.oflag & ONLCR).toBe(before.oflag & ONLCR);
    expect(raw.cc[6]).toBe(1); // VMIN
    expect(raw.cc[5]).toBe(0); // VTIME
    expectSameTermios(slave.savedTermios!, before);
    slave.reset();
    expectSameTermios(getTermios(slaveFd), before);
  });

  it("reset restores the state before the first change, not the last", () => {
    const { slave, slaveFd } = pair();
    const before = getTermios(slaveFd);
    slave.disableEcho();
    slave.setRaw();
    slave.clearONLCR();
    slave.reset();
    expectSameTermios(getTermios(slaveFd), before);
  });

  it("disableEcho stops the echo of typed bytes", async () => {
    const { master, slave, slaveFd } = pair();
    const before = getTermios(slaveFd);
    writeSync(master.fd, "x");
    expect((await readFor(master.fd, 1)).toString()).toBe("x");
    slave.disableEcho();
    const after = getTermios(slaveFd);
    expect(after.lflag).toBe(before.lflag & ~ECHO);
    expect(after.iflag).toBe(before.iflag);
    expect(after.oflag).toBe(before.oflag);
    writeSync(master.fd, "y");
    expect((await readFor(master.fd, 1, 200)).length).toBe(0);
  });
});

describe("window size", () => {
  it("a resize of the master is seen on the slave", () => {
    const { master, slave } = pair();
    master.resize({ rows: 33, cols: 111, xpixel: 7, ypixel: 9 });
    expect(slave.size()).toEqual({ rows: 33, cols: 111, xpixel: 7, ypixel: 9 });
    master.resize({ rows: 24, cols: 80 });
    expect(slave.size()).toEqual({ rows: 24, cols: 80, xpixel: 0, ypixel: 0 });
  });

  it("resizeFrom copies another console's size", () => {
    const a = pair();
    const b = pair();
    a.master.resize({ rows: 41, cols: 132 });
    b.master.resizeFrom(a.slave);
    expect(b.slave.size()).toMatchObject({ rows: 41, cols: 132 });
  });

  it("refuses sizes the kernel cannot hold", () => {
    const { master } = pair();
    expect(() => master.resize({ rows: -1, cols: 80 })).toThrow(RangeError);
    expect(() => master.resize({ rows: 24, cols: 70000 })).toThrow(RangeError);
    expect(() => master.resize({ rows: Number.NaN, cols: 80 })).toThrow(RangeError);
  });
});

describe("consoleFromFd and errors", () => {
  it("refuses a non-terminal with NotAConsoleError", () => {
    const fd = openSync("/dev/null", "r");
    cleanups.push(() => closeSync(fd));
    let err: unknown;
    try {
      consoleFromFd(fd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotAConsoleError);
    expect(err).toBeInstanceOf(ConsoleError);
    expect((err as ConsoleError).code).toBe("ENOTTY");
    expect((err as ConsoleError).message).toBe("tcgetattr /dev/null: ENOTTY");
  });

  it("close() closes only an owned fd, and a closed console refuses work", () => {
    const { slaveFd, slavePath } = pair();
    const borrowed = consoleFromFd(slaveFd);
    expect(borrowed.name).toBe(slavePath);
    borrowed.close();
    expect(() => getTermios(slaveFd)).not.toThrow();
    expect(() => borrowed.size()).toThrow(`ioctl TIOCGWINSZ ${slavePath}: EBADF`);

    const fd = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
    const owned = consoleFromFd(fd, { owned: true, name: "tty-under-test" });
    owned.close();
    owned.close();
    expect(() => getTermios(fd)).toThrow("tcgetattr: EBADF");
  });
});

describe("current", () => {
  it("finds a terminal on stdin", async () => {
    const { slaveFd, slavePath } = pair();
    const child = await runFixture("console.log(C.current().name);", [slaveFd, "pipe", "inherit"]);
    expect(await firstLine(child)).toBe(slavePath);
    expect((await exited(child)).code).toBe(0);
  });

  it("throws NotAConsoleError without any terminal", async () => {
    // detached: a new session, so there is no controlling terminal behind /dev/tty either.
    const child = await runFixture(
      "try { C.current(); console.log('found'); } catch (e) { console.log(e.name + ' ' + e.code); }",
      ["ignore", "pipe", "pipe"],
      { detached: true },
    );
    expect(await firstLine(child)).toBe("NotAConsoleError ENXIO");
    await exited(child);
  });
});
