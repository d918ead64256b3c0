import { closeSync, fstatSync, readSync, writeSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { FdPassError } from "./errors.js";
import { isCloexec } from "./fd.js";
import { recvFds, recvFdsSync, sendFds } from "./send-recv.js";
import { socketpair } from "./socketpair.js";
import { leakedSince, openFds, pipe, untilIdle } from "./test-support.js";
import { pollerState } from "./wait-readable.js";

const toClose: number[] = [];
function track<T extends number[]>(fds: T): T {
  toClose.push(...fds);
  return fds;
}
afterEach(() => {
  for (const fd of toClose.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // Closed by the test itself.
    }
  }
});

async function rejection(p: Promise<unknown>): Promise<FdPassError> {
  const e = await p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FdPassError);
  return e as FdPassError;
}

describe("socketpair", () => {
  it("returns two connected close-on-exec sockets of the asked type", () => {
    for (const type of ["stream", "seqpacket"] as const) {
      const [a, b] = track(socketpair(type));
      expect(isCloexec(a)).toBe(true);
      expect(isCloexec(b)).toBe(true);
      expect(fstatSync(a).isSocket()).toBe(true);
    }
  });

  it("rejects an unknown type", () => {
    expect(() => socketpair("dgram" as "stream")).toThrow(/socketpair: unknown socket type "dgram"/);
  });
});

describe("sendFds / recvFds", () => {
  it("passes a pipe end that works on the other side and arrives close-on-exec", async () => {
    const [a, b] = track(socketpair("seqpacket"));
    const [r, w] = track(pipe());
    sendFds(a, [w], "here");
    const got = await recvFds(b);
    track(got.fds);
    expect(got.payload.toString()).toBe("here");
    expect(got.fds).toHaveLength(1);
    const passed = got.fds[0]!;
    expect(passed).not.toBe(w);
    expect(isCloexec(passed)).toBe(true);
    writeSync(passed, "through the passed fd");
    const buf = Buffer.alloc(64);
    const n = readSync(r, buf);
    expect(buf.subarray(0, n).toString()).toBe("through the passed fd");
  });

  it("keeps message boundaries and fd order on seqpacket, several fds at once", async () => {
    const [a, b] = track(socketpair("seqpacket"));
    const [r1, w1] = track(pipe());
    const [r2, w2] = track(pipe());
    sendFds(a, [w1, w2], "one");
    sendFds(a, [], "two");
    const first = recvFdsSync(b);
    track(first.fds);
    const second = recvFdsSync(b);
    expect(first.payload.toString()).toBe("one");
    expect(second).toEqual({ fds: [], payload: Buffer.from("two") });
    writeSync(first.fds[0]!, "1");
    writeSync(first.fds[1]!, "2");
    const buf = Buffer.alloc(1);
    readSync(r1, buf);
    expect(buf.toString()).toBe("1");
    readSync(r2, buf);
    expect(buf.toString()).toBe("2");
  });

  it("leaks no fd over 1,000 send/receive rounds", async () => {
    const [a, b] = track(socketpair("seqpacket"));
    const [r, w] = track(pipe());
    await untilIdle();
    const before = openFds();
    for (let i = 0; i < 1000; i++) {
      // Alternate sync and async receives, so both paths and the poller are exercised.
      const pending = i % 2 === 0 ? recvFds(b) : null;
      sendFds(a, [r, w], `round ${i}`);
      const got = pending ? await pending : recvFdsSync(b);
      expect(got.fds).toHaveLength(2);
      for (const fd of got.fds) closeSync(fd);
    }
    await untilIdle();
    expect(leakedSince(before)).toEqual([]);
  });

  it("does not block the event loop while waiting, and the wait can be aborted", async () => {
    const [, b] = track(socketpair("stream"));
    const controller = new AbortController();
    const pending = recvFds(b, { signal: controller.signal });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
    expect(pollerState().polling).toBe(true);
    controller.abort(new Error("stop waiting"));
    await expect(pending).rejects.toThrow("stop waiting");
    await untilIdle();
  });

  it("rejects at once when the signal is already aborted", async () => {
    const [, b] = track(socketpair("stream"));
    await expect(recvFds(b, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("serves concurrent waiters on different sockets with one poll", async () => {
    const pairs = Array.from({ length: 5 }, () => track(socketpair("seqpacket")));
    const pending = pairs.map(([, b]) => recvFds(b));
    await new Promise((r) => setTimeout(r, 20));
    expect(pollerState().waiters).toBe(5);
    pairs.forEach(([a], i) => {
      sendFds(a, [], `msg ${i}`);
    });
    const got = await Promise.all(pending);
    expect(got.map((g) => g.payload.toString())).toEqual(pairs.map((_, i) => `msg ${i}`));
    await untilIdle();
  });

  it("refuses an empty payload and bad fds before sending anything", () => {
    const [a] = track(socketpair("seqpacket"));
    expect(() => sendFds(a, [0], "")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => sendFds(a, [-1], "x")).toThrow(/sendmsg: invalid fd -1/);
    expect(() => sendFds(a, Array(254).fill(0), "x")).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("reports a failed sendmsg with the errno name", () => {
    const [a, b] = socketpair("stream");
    closeSync(b);
    try {
      sendFds(a, [0], "x");
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: "EPIPE", syscall: "sendmsg", message: "sendmsg: EPIPE" });
    } finally {
      closeSync(a);
    }
  });
});

describe("misbehaving peers get typed errors and leak nothing", () => {
  it("EPEERCLOSED when the peer closes before sending", async () => {
    const before = openFds();
    const [a, b] = socketpair("stream");
    const pending = recvFds(b);
    closeSync(a);
    const e = await rejection(pending);
    expect(e.code).toBe("EPEERCLOSED");
    expect(e.message).toBe("recvmsg: peer closed the connection");
    closeSync(b);
    await untilIdle();
    expect(leakedSince(before)).toEqual([]);
  });

  it("ETOOMANYFDS when a message carries more fds than allowed, and all of them are closed", async () => {
    const [a, b] = track(socketpair("seqpacket"));
    const [r, w] = track(pipe());
    await untilIdle();
    const before = openFds();
    sendFds(a, [r, w, r], "three");
    const e = await rejection(recvFds(b, { maxFds: 2 }));
    expect(e.code).toBe("ETOOMANYFDS");
    expect(leakedSince(before)).toEqual([]);
  });

  it("ECTRUNC when the fds overflow the control buffer, and the ones that fit are closed", async () => {
    const [a, b] = track(socketpair("seqpacket"));
    const [r] = track(pipe());
    await untilIdle();
    const before = openFds();
    sendFds(a, Array(40).fill(r), "flood");
    const e = await rejection(recvFds(b, { maxFds: 2 }));
    expect(e.code).toBe("ECTRUNC");
    expect(leakedSince(before)).toEqual([]);
  });

  it("ETRUNC when a seqpacket payload exceeds maxPayload, closing the fds that came with it", async () => {
    const [a, b] = track(socketpair("seqpacket"));
    const [r] = track(pipe());
    const before = openFds();
    sendFds(a, [r], Buffer.alloc(100, 1));
    try {
      recvFdsSync(b, { maxPayload: 10 });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: "ETRUNC" });
    }
    expect(leakedSince(before)).toEqual([]);
  });

  it("a bad socket is an errno error", () => {
    expect(() => recvFdsSync(1_000_000)).toThrow(
      expect.objectContaining({ code: "EBADF", syscall: "recvmsg" }),
    );
  });
});
