import { closeSync, openSync, readdirSync, readlinkSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as libc from "./libc.js";
import { type FdSource, spawnProcess } from "./spawn.js";

/** Runs `sh -c script` through spawnProcess with stdout on a pipe; returns what it printed and its exit code. */
function sh(script: string, more: FdSource[] = [], env: Record<string, string> = {}) {
  const [r, w] = libc.pipe();
  let pid: number;
  try {
    pid = spawnProcess("/bin/sh", {
      argv0: "sh",
      args: ["-c", script],
      env: { PATH: "/usr/bin:/bin", ...env },
      fds: ["ignore", w, "inherit", ...more],
    });
  } finally {
    closeSync(w);
  }
  const out: Buffer[] = [];
  try {
    for (;;) {
      const b = libc.read(r, 65536);
      if (!b || b.length === 0) break;
      out.push(b);
    }
  } finally {
    closeSync(r);
  }
  return { out: Buffer.concat(out).toString(), code: libc.waitExitSync(pid) };
}

describe("spawnProcess", () => {
  it("gives the child exactly the fds asked for, at their numbers", () => {
    const extra = openSync("/dev/null", "r"); // close-on-exec, as every fd Node opens: must not reach the child
    const [a, b] = libc.pipe();
    try {
      // The child's fd 3 is our pipe's write end, fd 4 its read end: swapped numbers must not clobber each other.
      const r = sh("ls -l /proc/$$/fd | awk 'NR > 1 { print $9, $11 }'", [b, a]);
      expect(r.code).toBe(0);
      const fds = Object.fromEntries(
        r.out
          .trim()
          .split("\n")
          .map((l) => l.split(" ")),
      );
      // Even an fd we inherited without close-on-exec (vitest's workers have one) stays out.
      expect(Object.keys(fds).sort()).toEqual(["0", "1", "2", "3", "4"]);
      expect(fds["0"]).toBe("/dev/null");
      expect(fds["3"]).toBe(readlinkFd(b));
      expect(fds["4"]).toBe(readlinkFd(a));
    } finally {
      closeSync(extra);
      closeSync(a);
      closeSync(b);
    }
  });

  it("resets ignored signals and the signal mask, and passes only the given environment", () => {
    // Node ignores SIGPIPE; an ignored signal would survive the exec.
    const r = sh('grep -E "^(SigIgn|SigBlk)" /proc/self/status; env', [], { FOO: "bar" });
    expect(r.code).toBe(0);
    // Signal n is bit n-1: the standard signals 1-31 must all be at their defaults (SIGPIPE is bit 12); glibc keeps
    // 32 and 33 for itself.
    const ignored = BigInt(`0x${/SigIgn:\s+([0-9a-f]+)/.exec(r.out)?.[1]}`);
    expect(ignored & 0x7fffffffn).toBe(0n);
    expect(r.out).toMatch(/SigBlk:\s+0+\n/);
    expect(r.out).toContain("FOO=bar");
    expect(r.out).not.toMatch(/NODE|VITEST/);
  });

  it("reports a missing program with its path, and leaks no fd of ours either way", () => {
    const before = readdirSync("/proc/self/fd").length;
    expect(() =>
      spawnProcess("/nonexistent/prog", { argv0: "x", env: {}, fds: ["ignore", "ignore", "ignore"] }),
    ).toThrow(/posix_spawn \/nonexistent\/prog: ENOENT/);
    expect(sh("exit 3").code).toBe(3);
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });
});

function readlinkFd(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}
