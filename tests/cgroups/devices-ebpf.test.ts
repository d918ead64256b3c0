// Device rules on a real cgroup2 tree through the eBPF program (v2 manager's set()): a process inside the cgroup
// is refused (EPERM) the devices the rules deny and opens the others. On this hybrid host the tree is
// /sys/fs/cgroup/unified, which takes device programs like any v2 host.

import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { DeviceCgroup } from "../../packages/libcontainer/src/spec.js";
import { Cleanup, isRoot, uniqueName, V2_ROOT, v2Manager } from "./helpers.js";

const SCRIPT = [
  "read go",
  "head -c1 /dev/zero >/dev/null 2>/dev/null; echo zero-read=$?",
  "(echo x >/dev/zero) 2>/dev/null; echo zero-write=$?",
  "head -c1 /dev/null; echo null-read=$?",
  "(head -c1 /dev/zero 2>&1 >/dev/null) | grep -c 'Operation not permitted'",
].join("\n");

/** Runs SCRIPT in a cgroup with `rules` applied (in order, one set() each): its output. */
async function probe(cleanup: Cleanup, ...ruleSets: DeviceCgroup[][]): Promise<string> {
  const m = cleanup.manager(v2Manager(uniqueName("dev")));
  m.create();
  const child = spawn("sh", ["-c", SCRIPT], { stdio: ["pipe", "pipe", "inherit"] });
  const out: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => out.push(d));
  const exited = new Promise((r) => child.on("exit", r));
  cleanup.proc({ child, pid: child.pid!, exited: exited as never });
  m.apply(child.pid!);
  for (const rules of ruleSets) m.set({ devices: rules });
  child.stdin.end("go\n");
  await exited;
  return Buffer.concat(out).toString();
}

const deny = (type: string, major: number | undefined, minor: number | undefined, access = "rwm") => ({
  allow: false,
  type,
  ...(major === undefined ? {} : { major }),
  ...(minor === undefined ? {} : { minor }),
  access,
});
const allow = (type: string, major: number | undefined, minor: number | undefined, access = "rwm") => ({
  ...deny(type, major, minor, access),
  allow: true,
});

describe.skipIf(!isRoot || V2_ROOT === undefined)("cgroup v2 devices through eBPF", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("an allow-list without /dev/zero refuses it with EPERM and opens /dev/null", async () => {
    const out = await probe(cleanup, [{ allow: false, access: "rwm" }, allow("c", 1, 3)]);
    expect(out).toBe("zero-read=1\nzero-write=2\nnull-read=0\n1\n");
  });

  it("deny c 1:5 rwm over allow-all refuses /dev/zero only", async () => {
    const out = await probe(cleanup, [{ allow: true, access: "rwm" }, deny("c", 1, 5)]);
    expect(out).toBe("zero-read=1\nzero-write=2\nnull-read=0\n1\n");
  });

  it("access bits count: read allowed, write refused", async () => {
    const out = await probe(cleanup, [
      { allow: false, access: "rwm" },
      allow("c", 1, 3),
      allow("c", 1, 5, "r"),
    ]);
    expect(out).toBe("zero-read=0\nzero-write=2\nnull-read=0\n0\n");
  });

  it("a wildcard c *:* allows every character device", async () => {
    const out = await probe(cleanup, [{ allow: false, access: "rwm" }, allow("c", undefined, undefined)]);
    expect(out).toBe("zero-read=0\nzero-write=0\nnull-read=0\n0\n");
  });

  it("a second set() replaces the first program instead of stacking on it, and leaves no fd open", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    const before = fds();
    const out = await probe(cleanup, [deny("a", undefined, undefined)], [{ allow: true, access: "rwm" }]);
    expect(out).toBe("zero-read=0\nzero-write=0\nnull-read=0\n0\n");
    await cleanup.run();
    expect(fds()).toBe(before);
  });
});
