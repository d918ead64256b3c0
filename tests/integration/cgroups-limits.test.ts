// linux.resources enforced by the kernel on a real container: memory (OOM kill, exit 137, an "oom" event), pids
// (fork fails), cpu quota (throttling in the host's cpu.stat) and devices (EPERM on open). Each case passes
// against runc too (TSRUN_TEST_RUNTIME=/usr/sbin/runc).
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cgroupFile, statOf } from "./cgroup-dirs.js";
import { alive, collect, ENV, RUNTIME, rtq, stateJson, until, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();
// Cgroup paths follow the id (no cgroupsPath): unique per run, so that suites running at the same time never share one.
const TAG = `lim-${process.pid}`;
const MiB = 1024 * 1024;
// Doubles a string until the memory limit ends it.
const HOG = ["sh", "-c", "x=a; while :; do x=$x$x; done"];

describe("memory", () => {
  it("a 16 MiB limit (swap the same) ends an allocating init with 137", async () => {
    const b = bundle((s) => {
      s.process!.args = HOG;
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 16 * MiB, swap: 16 * MiB } };
    });
    const r = await rtq(b, ["run", `${TAG}-m1`]);
    expect(r.code).toBe(137);
    await rtq(b, ["delete", `${TAG}-m1`]);
  });

  it("events reports the OOM kill as {type: oom}", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "read x < /dev/null; sleep 0.3; x=a; while :; do x=$x$x; done"];
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 16 * MiB, swap: 16 * MiB } };
    });
    expect((await rtq(b, ["create", "--bundle", b.dir, `${TAG}-m2`])).code).toBe(0);
    const pid = track((await stateJson(b, `${TAG}-m2`)).pid as number);
    const events = spawn(RUNTIME, ["--root", b.root, "events", "--interval", "1s", `${TAG}-m2`], {
      cwd: b.dir,
      env: ENV,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = collect(events);
    await new Promise((r) => setTimeout(r, 200));
    expect((await rtq(b, ["start", `${TAG}-m2`])).code).toBe(0);
    await until("the OOM kill", () => !alive(pid), 10_000);
    // runc's events ends when the cgroup goes away, tsrun's when the init is gone: delete covers both.
    await new Promise((r) => setTimeout(r, 300));
    expect((await rtq(b, ["delete", `${TAG}-m2`])).code).toBe(0);
    const res = await out;
    const lines = res.stdout.split("\n").filter(Boolean);
    expect(lines).toContain(`{"type":"oom","id":"${TAG}-m2"}`);
    for (const l of lines) expect(JSON.parse(l).id).toBe(`${TAG}-m2`);
  });
});

describe("pids", () => {
  it("a limit of 10 stops a fork loop", async () => {
    const b = bundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        "i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done; echo spawned; kill $(jobs -p) 2>/dev/null",
      ];
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
    });
    const r = await rtq(b, ["run", `${TAG}-p1`]);
    expect(r.stdout + r.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    await rtq(b, ["delete", "--force", `${TAG}-p1`]);
  });
});

describe("cpu", () => {
  it("a quota of 10000/100000 throttles a busy loop", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "while :; do :; done"];
      s.linux!.resources = { ...s.linux!.resources, cpu: { quota: 10000, period: 100000 } };
    });
    expect((await rtq(b, ["run", "-d", `${TAG}-q1`])).code).toBe(0);
    const pid = track((await stateJson(b, `${TAG}-q1`)).pid as number);
    expect(cgroupFile(pid, "cpu", "cpu.cfs_quota_us")).toBe("10000");
    expect(cgroupFile(pid, "cpu", "cpu.cfs_period_us")).toBe("100000");
    await until("throttling", () => statOf(cgroupFile(pid, "cpu", "cpu.stat")).nr_throttled! > 0, 5000);
    const st = statOf(cgroupFile(pid, "cpu", "cpu.stat"));
    expect(st.nr_periods).toBeGreaterThan(0);
    expect(st.throttled_time).toBeGreaterThan(0);
    expect((await rtq(b, ["kill", `${TAG}-q1`, "9"])).code).toBe(0);
    await until("init gone", () => !alive(pid));
    await rtq(b, ["delete", `${TAG}-q1`]);
  });
});

describe("devices", () => {
  // runc appends its default allow rules (null, zero, full, tty, random, urandom, ptmx, pts, tun) after the
  // spec's, so a deny of one of those is overridden in both runtimes: deny a device outside that list instead,
  // bind-mounted from the host so that it exists in the container (/dev/fuse: opening it needs no capability).
  it("a denied device fails to open with EPERM while /dev/null opens", async () => {
    const b = bundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        "true </dev/fuse; echo fuse=$?; true </dev/null; echo null=$?; head -c1 /dev/zero | wc -c",
      ];
      s.mounts!.push({ destination: "/dev/fuse", type: "bind", source: "/dev/fuse", options: ["bind"] });
      s.linux!.resources = {
        ...s.linux!.resources,
        devices: [
          { allow: false, access: "rwm" },
          { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
        ],
      };
    });
    const r = await rtq(b, ["run", `${TAG}-d1`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("can't open /dev/fuse: Operation not permitted");
    expect(r.stdout).toBe("fuse=1\nnull=0\n1\n");
    await rtq(b, ["delete", `${TAG}-d1`]);
  });

  it("an allow rule for the same device lets it open", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "true </dev/fuse; echo fuse=$?"];
      s.mounts!.push({ destination: "/dev/fuse", type: "bind", source: "/dev/fuse", options: ["bind"] });
      s.linux!.resources = {
        ...s.linux!.resources,
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "c", major: 10, minor: 229, access: "r" },
        ],
      };
    });
    const r = await rtq(b, ["run", `${TAG}-d2`]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("fuse=0\n");
    await rtq(b, ["delete", `${TAG}-d2`]);
  });
});
