import { closeSync, constants, openSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type Console, consoleFromFd, followWindowSize, newPty } from "./index.js";
import { sleep, until } from "./test-utils.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function pty(): { master: Console; slave: Console } {
  const { master, slavePath } = newPty();
  const fd = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
  cleanups.push(() => master.close());
  cleanups.push(() => closeSync(fd));
  return { master, slave: consoleFromFd(fd) };
}

describe("followWindowSize", () => {
  it("copies the size now and on every real SIGWINCH, until stopped", async () => {
    const host = pty();
    const inner = pty();
    host.master.resize({ rows: 30, cols: 100 });
    const follow = followWindowSize(host.slave, inner.master);
    cleanups.push(() => follow.stop());
    expect(inner.slave.size()).toMatchObject({ rows: 30, cols: 100 });

    host.master.resize({ rows: 50, cols: 160 });
    expect(inner.slave.size()).toMatchObject({ rows: 30, cols: 100 });
    process.kill(process.pid, "SIGWINCH");
    expect(await until(() => inner.slave.size().rows === 50)).toBe(true);
    expect(inner.slave.size()).toMatchObject({ rows: 50, cols: 160 });

    follow.stop();
    host.master.resize({ rows: 20, cols: 60 });
    process.kill(process.pid, "SIGWINCH");
    await sleep(100);
    expect(inner.slave.size()).toMatchObject({ rows: 50, cols: 160 });
  });

  it("stops following once the target is closed, without throwing from the signal", async () => {
    const host = pty();
    const { master, slavePath } = newPty();
    const follow = followWindowSize(host.slave, master);
    master.close();
    const before = process.listenerCount("SIGWINCH");
    process.kill(process.pid, "SIGWINCH");
    expect(await until(() => process.listenerCount("SIGWINCH") === before - 1)).toBe(true);
    follow.stop();
    expect(slavePath).toMatch(/^\/dev\/pts\//);
  });
});
