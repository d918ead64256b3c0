// The v1 (and hybrid) manager against this host's real hierarchies: files read back, processes moved, frozen,
// killed by the OOM killer, and directories removed.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cgroupManager } from "../../packages/libcontainer/src/cgroups/index.js";
import {
  busyCounter,
  Cleanup,
  delay,
  isRoot,
  layout,
  procCgroup,
  readTrim,
  start,
  uniqueName,
} from "./helpers.js";

const v1Host = layout.mode !== "v2";

describe.skipIf(!isRoot || !v1Host)("cgroup v1 manager on this host", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("creates, joins every hierarchy (named and unified too), sets limits the kernel reads back, destroys", async () => {
    const name = uniqueName("v1");
    const m = cleanup.manager(cgroupManager({ cgroupsPath: `/${name}`, id: name }));
    m.create();
    for (const dir of Object.values(m.paths)) expect(existsSync(dir), dir).toBe(true);
    const sleeper = cleanup.proc(start("sleep", ["60"]));
    m.apply(sleeper.pid);
    m.set({
      memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 },
      cpu: { shares: 512, quota: 50000, period: 100000 },
      pids: { limit: 10 },
    });
    expect(readTrim(`${m.paths.memory}/memory.limit_in_bytes`)).toBe("67108864");
    expect(readTrim(`${m.paths.memory}/memory.soft_limit_in_bytes`)).toBe("33554432");
    if (existsSync(`${m.paths.memory}/memory.memsw.limit_in_bytes`)) {
      expect(readTrim(`${m.paths.memory}/memory.memsw.limit_in_bytes`)).toBe("67108864");
    }
    expect(readTrim(`${m.paths.cpu}/cpu.cfs_quota_us`)).toBe("50000");
    expect(readTrim(`${m.paths.cpu}/cpu.cfs_period_us`)).toBe("100000");
    expect(readTrim(`${m.paths.cpu}/cpu.shares`)).toBe("512");
    expect(readTrim(`${m.paths.pids}/pids.max`)).toBe("10");
    expect(m.pids()).toEqual([sleeper.pid]);

    // The kernel's own view: the process is in the container's cgroup in every hierarchy.
    const lines = procCgroup(sleeper.pid);
    for (const key of Object.keys(m.paths)) {
      const line = lines.find(
        (l) => l.split(":")[1]?.split(",").includes(key) || (key === "" && l.startsWith("0::")),
      );
      expect(line, `hierarchy ${key || "unified"}`).toMatch(new RegExp(`:/${name}$`));
    }

    sleeper.child.kill("SIGKILL");
    await sleeper.exited;
    m.destroy();
    for (const dir of Object.values(m.paths)) expect(existsSync(dir), dir).toBe(false);
    m.destroy(); // missing is fine
  });

  it("defaults to the id under this process's own cgroup, per hierarchy", () => {
    const id = uniqueName("default");
    const m = cleanup.manager(cgroupManager({ id }));
    const self = readFileSync("/proc/self/cgroup", "utf8");
    const memoryOwn = /^\d+:memory:(.*)$/m.exec(self)?.[1] ?? "/";
    expect(m.paths.memory).toBe(join("/sys/fs/cgroup/memory", memoryOwn, id));
    m.create();
    expect(existsSync(m.paths.memory!)).toBe(true);
    m.destroy();
    expect(existsSync(m.paths.memory!)).toBe(false);
  });

  it("gives new nested cpuset cgroups their parent's cpus and mems, so tasks can join", () => {
    const parent = uniqueName("cpuset");
    const m = cleanup.manager(cgroupManager({ cgroupsPath: `/${parent}/inner`, id: "x" }));
    for (const dir of Object.values(m.paths)) cleanup.dir(dirname(dir));
    m.create();
    const rootCpus = readTrim("/sys/fs/cgroup/cpuset/cpuset.cpus");
    expect(readTrim(`/sys/fs/cgroup/cpuset/${parent}/cpuset.cpus`)).toBe(rootCpus);
    expect(readTrim(`${m.paths.cpuset}/cpuset.cpus`)).toBe(rootCpus);
    expect(readTrim(`${m.paths.cpuset}/cpuset.mems`)).toBe(readTrim("/sys/fs/cgroup/cpuset/cpuset.mems"));
    const sleeper = cleanup.proc(start("sleep", ["60"]));
    m.apply(sleeper.pid);
    m.set({ cpu: { cpus: "0" } });
    expect(readTrim(`${m.paths.cpuset}/cpuset.cpus`)).toBe("0");
  });

  it("reports the kernel's bound for out-of-range cpu shares", () => {
    const name = uniqueName("shares");
    const m = cleanup.manager(cgroupManager({ cgroupsPath: `/${name}`, id: name }));
    m.create();
    expect(() => m.set({ cpu: { shares: 1 } })).toThrow("the minimum allowed cpu-shares is 2");
  });

  it("writes device rules: deny all, then the allow-list", () => {
    const name = uniqueName("devices");
    const m = cleanup.manager(cgroupManager({ cgroupsPath: `/${name}`, id: name }));
    m.create();
    m.set({
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
        { allow: true, type: "c", major: 136, access: "rw" },
      ],
    });
    expect(readTrim(`${m.paths.devices}/devices.list`).split("\n")).toEqual(["c 1:3 rwm", "c 136:* rw"]);
  });

  it("freezes and thaws a busy process", async () => {
    const name = uniqueName("freeze");
    const m = cleanup.manager(cgroupManager({ cgroupsPath: `/${name}`, id: name }));
    m.create();
    const count = await busyCounter(cleanup, m);
    expect(m.isFrozen()).toBe(false);
    m.freeze();
    expect(m.isFrozen()).toBe(true);
    expect(readTrim(`${m.paths.freezer}/freezer.state`)).toBe("FROZEN");
    await delay(50);
    const frozenAt = count();
    await delay(300);
    expect(count()).toBe(frozenAt);
    m.thaw();
    expect(m.isFrozen()).toBe(false);
    await delay(300);
    expect(count()).toBeGreaterThan(frozenAt);
  });

  it("a 16 MiB memory limit ends an allocating process with SIGKILL (137)", async () => {
    const name = uniqueName("oom");
    const m = cleanup.manager(cgroupManager({ cgroupsPath: `/${name}`, id: name }));
    m.create();
    m.set({ memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } });
    // sh waits until it is in the cgroup, then becomes node, which allocates 64 MiB.
    const script =
      "const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(1 << 20, 1)); console.log(a.length)";
    const p = cleanup.proc(start("sh", ["-c", `read go; exec ${process.execPath} -e '${script}'`]));
    m.apply(p.pid);
    p.child.stdin?.end("go\n");
    const { code, signal } = await p.exited;
    expect({ code, signal }).toEqual({ code: null, signal: "SIGKILL" });
    expect(128 + 9).toBe(137);
    expect(readFileSync(`${m.paths.memory}/memory.oom_control`, "utf8")).toMatch(/oom_kill [1-9]/);
  });

  it("destroy fails with EBUSY while a process is still inside, and succeeds after", async () => {
    const name = uniqueName("busy");
    const m = cleanup.manager(cgroupManager({ cgroupsPath: `/${name}`, id: name }));
    m.create();
    const sleeper = cleanup.proc(start("sleep", ["60"]));
    m.apply(sleeper.pid);
    expect(() => m.destroy()).toThrow(/rmdir \/sys\/fs\/cgroup\/\S+: EBUSY/);
    sleeper.child.kill("SIGKILL");
    await sleeper.exited;
    m.destroy();
    for (const dir of Object.values(m.paths)) expect(existsSync(dir)).toBe(false);
  });
});
