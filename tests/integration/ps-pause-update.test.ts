// ps, pause/resume, update, events --stats and kill --all on real containers, checked against the kernel's
// files on the host. Each case passes against runc too (TSRUN_TEST_RUNTIME=/usr/sbin/runc).
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupDir, cgroupFile } from "./cgroup-dirs.js";
import { alive, type Bundle, collect, ENV, RUNTIME, rtq, stateJson, until, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();
// Cgroup paths follow the id (no cgroupsPath): unique per run, so that suites running at the same time never share one.
const ID = `ppu-${process.pid}`;
// Three processes: the init and two children, and no others coming and going.
const THREE = ["sh", "-c", "sleep 1000 & sleep 1000 & wait"];
// Writes an increasing counter to /tmp/n in the rootfs (visible from the host).
const COUNTER = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done"];

async function running(args: string[], edit?: Parameters<typeof bundle>[0], id = ID) {
  const b = bundle((s) => {
    s.process!.args = args;
    edit?.(s);
  });
  const r = await rtq(b, ["run", "-d", id]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const pid = track((await stateJson(b, id)).pid as number);
  return { b, pid };
}

const childrenOf = (pid: number): number[] => {
  const out: number[] = [];
  for (const t of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)) {
    if (t !== "") out.push(Number(t));
  }
  return out;
};

async function stopAndDelete(b: Bundle, id: string, pid: number) {
  await rtq(b, ["kill", id, "9"]);
  await until("init gone", () => !alive(pid));
  expect((await rtq(b, ["delete", id])).code).toBe(0);
}

describe("ps", () => {
  it("--format json prints only the container's host pids; the table keeps ps's lines for them", async () => {
    const { b, pid } = await running(THREE);
    await until(
      "two children",
      () => childrenOf(pid).filter((c) => /sleep 1000/.test(cmdline(c))).length === 2,
    );
    const r = await rtq(b, ["ps", "--format", "json", ID]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[[\d,]+\]\n$/);
    const pids = JSON.parse(r.stdout) as number[];
    expect(pids).toContain(pid);
    for (const c of childrenOf(pid).filter((c) => /sleep 1000/.test(cmdline(c)))) expect(pids).toContain(c);
    for (const p of pids)
      expect(readFileSync(`/proc/${p}/cgroup`, "utf8")).toContain(
        cgroupDir(pid, "memory").slice("/sys/fs/cgroup/memory".length),
      );

    const t = await rtq(b, ["ps", ID]);
    expect(t.code).toBe(0);
    const lines = t.stdout.split("\n");
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID/);
    expect(lines.at(-1)).toBe("");
    const shown = lines.slice(1, -1).map((l) => Number(l.trim().split(/\s+/)[1]));
    expect(shown).toContain(pid);
    for (const p of shown) expect(pids).toContain(p);

    const o = await rtq(b, ["ps", ID, "-o", "pid,comm"]);
    expect(o.stdout.split("\n")[0]).toMatch(/^\s*PID COMMAND$/);
    expect(o.stdout).toMatch(/\bsleep\n/);
    await stopAndDelete(b, ID, pid);
  });

  it("prints null for a stopped container, and kill --all ends every process", async () => {
    const { b, pid } = await running(THREE);
    await until("two children", () => childrenOf(pid).length >= 2);
    const before = JSON.parse((await rtq(b, ["ps", "-f", "json", ID])).stdout) as number[];
    expect(before.length).toBeGreaterThanOrEqual(3);
    for (const p of before) track(p);
    expect((await rtq(b, ["kill", "--all", ID, "9"])).code).toBe(0);
    await until("every process gone", () => before.every((p) => !alive(p)));
    const r = await rtq(b, ["ps", "--format", "json", ID]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("null\n");
    expect((await rtq(b, ["kill", "--all", ID, "9"])).code).toBe(0);
    expect((await rtq(b, ["delete", ID])).code).toBe(0);
  });

  it("refuses an unknown format and a missing container", async () => {
    const { b, pid } = await running(THREE);
    let r = await rtq(b, ["ps", "--format", "yaml", ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid format option");
    r = await rtq(b, ["ps", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not exist");
    await stopAndDelete(b, ID, pid);
  });
});

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

describe("pause and resume", () => {
  it("freeze a counting process and let it go on", async () => {
    const { b, pid } = await running(COUNTER, (s) => {
      s.root!.readonly = false;
    });
    const n = join(b.dir, "rootfs/tmp/n");
    const count = () => (existsSync(n) ? Number(readFileSync(n, "utf8").trim() || 0) : 0);
    await until("counting", () => count() > 3);

    let r = await rtq(b, ["resume", ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("container not paused");

    r = await rtq(b, ["pause", ID]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await stateJson(b, ID)).status).toBe("paused");
    expect(cgroupFile(pid, "freezer", "freezer.state")).toBe("FROZEN");
    const frozenAt = count();
    await new Promise((res) => setTimeout(res, 300));
    expect(count()).toBe(frozenAt);

    r = await rtq(b, ["pause", ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("container not running");

    r = await rtq(b, ["resume", ID]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await stateJson(b, ID)).status).toBe("running");
    expect(cgroupFile(pid, "freezer", "freezer.state")).toBe("THAWED");
    await until("counting again", () => count() > frozenAt + 3);

    await stopAndDelete(b, ID, pid);
    r = await rtq(b, ["pause", "nope"]);
    expect(r.stderr).toContain("does not exist");
  });

  it("kill --all ends a paused container's processes (they are thawed to act on the signal)", async () => {
    const { b, pid } = await running(THREE);
    await until("two children", () => childrenOf(pid).length >= 2);
    const all = JSON.parse((await rtq(b, ["ps", "--format", "json", ID])).stdout) as number[];
    for (const p of all) track(p);
    expect((await rtq(b, ["pause", ID])).code).toBe(0);
    expect((await rtq(b, ["kill", "--all", ID, "9"])).code).toBe(0);
    await until("every process gone", () => all.every((p) => !alive(p)));
    expect((await stateJson(b, ID)).status).toBe("stopped");
    expect((await rtq(b, ["delete", ID])).code).toBe(0);
  });

  it("refuse a stopped container", async () => {
    const { b, pid } = await running(THREE);
    await rtq(b, ["kill", ID, "9"]);
    await until("init gone", () => !alive(pid));
    let r = await rtq(b, ["pause", ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("container not running");
    r = await rtq(b, ["resume", ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("container not paused");
    expect((await rtq(b, ["delete", ID])).code).toBe(0);
  });
});

describe("update", () => {
  const MiB = 1024 * 1024;
  const limits = (s: Parameters<Parameters<typeof bundle>[0] & object>[0]) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * MiB }, pids: { limit: 50 } };
  };

  it("--pids-limit and --memory change the live cgroup", async () => {
    const { b, pid } = await running(THREE, limits);
    expect(cgroupFile(pid, "pids", "pids.max")).toBe("50");
    let r = await rtq(b, ["update", "--pids-limit", "7", ID]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(cgroupFile(pid, "pids", "pids.max")).toBe("7");
    // Values left out stay as they were.
    expect(cgroupFile(pid, "memory", "memory.limit_in_bytes")).toBe(String(64 * MiB));
    r = await rtq(b, ["update", "--memory", "32m", "--cpu-quota", "20000", "--cpu-period", "100000", ID]);
    expect(r.code).toBe(0);
    expect(cgroupFile(pid, "memory", "memory.limit_in_bytes")).toBe(String(32 * MiB));
    expect(cgroupFile(pid, "cpu", "cpu.cfs_quota_us")).toBe("20000");
    expect(cgroupFile(pid, "pids", "pids.max")).toBe("7");
    r = await rtq(b, ["update", "--pids-limit", "-1", ID]);
    expect(cgroupFile(pid, "pids", "pids.max")).toBe("max");
    await stopAndDelete(b, ID, pid);
  });

  it("--resources - reads LinuxResources from stdin and leaves devices alone", async () => {
    const { b, pid } = await running(THREE, limits);
    const devicesBefore = cgroupFile(pid, "devices", "devices.list");
    const doc = {
      memory: { limit: 48 * MiB, reservation: 16 * MiB },
      cpu: { shares: 512, quota: 30000, period: 100000 },
      pids: { limit: 42 },
      // containerd sends the whole section; runc's update ignores devices.
      devices: [{ allow: true, access: "rwm" }],
    };
    const r = await rtqInput(b, ["update", "--resources", "-", ID], JSON.stringify(doc));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(cgroupFile(pid, "memory", "memory.limit_in_bytes")).toBe(String(48 * MiB));
    expect(cgroupFile(pid, "memory", "memory.soft_limit_in_bytes")).toBe(String(16 * MiB));
    expect(cgroupFile(pid, "cpu", "cpu.shares")).toBe("512");
    expect(cgroupFile(pid, "cpu", "cpu.cfs_quota_us")).toBe("30000");
    expect(cgroupFile(pid, "pids", "pids.max")).toBe("42");
    expect(cgroupFile(pid, "devices", "devices.list")).toBe(devicesBefore);
    await stopAndDelete(b, ID, pid);
  });

  it("refuses bad values and a stopped container", async () => {
    const { b, pid } = await running(THREE, limits);
    let r = await rtq(b, ["update", "--memory", "lots", ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid value for memory");
    r = await rtq(b, ["update", "--pids-limit", "x", ID]);
    expect(r.code).toBe(1);
    r = await rtqInput(b, ["update", "-r", "-", ID], "{bad");
    expect(r.code).toBe(1);
    expect(cgroupFile(pid, "pids", "pids.max")).toBe("50");
    await rtq(b, ["kill", ID, "9"]);
    await until("init gone", () => !alive(pid));
    r = await rtq(b, ["update", "--pids-limit", "5", ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("container not running");
    expect((await rtq(b, ["delete", ID])).code).toBe(0);
  });
});

describe("events --stats", () => {
  it("prints one stats event with the cgroup's numbers", async () => {
    const { b, pid } = await running(THREE, (s) => {
      s.linux!.resources = {
        ...s.linux!.resources,
        memory: { limit: 64 * 1024 * 1024 },
        pids: { limit: 50 },
      };
    });
    await until("two children", () => childrenOf(pid).length >= 2);
    const r = await rtq(b, ["events", "--stats", ID]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    expect(r.stdout.split("\n")).toHaveLength(2);
    const e = JSON.parse(r.stdout);
    expect(e.type).toBe("stats");
    expect(e.id).toBe(ID);
    expect(Object.keys(e.data)).toEqual(
      expect.arrayContaining(["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb"]),
    );
    expect(e.data.pids.limit).toBe(50);
    expect(e.data.pids.current).toBeGreaterThanOrEqual(3);
    expect(e.data.memory.usage.limit).toBe(64 * 1024 * 1024);
    expect(e.data.memory.usage.usage).toBeGreaterThan(0);
    expect(e.data.cpu.usage.total).toBeGreaterThan(0);
    await rtq(b, ["kill", ID, "9"]);
    await until("init gone", () => !alive(pid));
    const s = await rtq(b, ["events", "--stats", ID]);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`container with id ${ID} is not running`);
    expect((await rtq(b, ["delete", ID])).code).toBe(0);
  });
});

/** The runtime with stdin from a file holding `input` (update --resources -). */
async function rtqInput(b: Bundle, args: string[], input: string) {
  const path = join(b.dir, `.in-${process.hrtime.bigint()}`);
  writeFileSync(path, input);
  const fd = openSync(path, "r");
  try {
    const child = spawn(RUNTIME, ["--root", b.root, ...args], {
      cwd: b.dir,
      env: ENV,
      stdio: [fd, "pipe", "pipe"],
    });
    return await collect(child);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
