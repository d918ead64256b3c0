import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { posix } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeV2Dir, V2_MOUNTINFO, V2_SELF_CGROUP } from "./fixtures.js";
import { CgroupError, cgroupManager, cgroupManagerFromPaths, cpuSharesToWeight, swapToV2 } from "./index.js";
import { blkioWeightToIOWeight } from "./values.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(posix.join(tmpdir(), "cg-v2-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const read = (...p: string[]) => readFileSync(posix.join(root, ...p), "utf8");
const ALL = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma"];

/** A v2 tree: its root with every controller, and the container's directory as the kernel creates it. */
function v2(controllers = ALL, content: Record<string, string> = {}) {
  fakeV2Dir(root, ALL);
  const m = cgroupManager({
    cgroupsPath: "/ns/ctr",
    id: "ctr",
    root,
    mountinfo: V2_MOUNTINFO,
    selfCgroup: V2_SELF_CGROUP,
  });
  m.create();
  fakeV2Dir(posix.join(root, "ns/ctr"), controllers, content);
  return m;
}

describe("runc's conversions", () => {
  it("cpu shares to weight", () => {
    expect([0, 2, 3, 512, 1024, 262144, 1 << 20].map(cpuSharesToWeight)).toEqual([
      0, 1, 2, 59, 100, 10000, 10000,
    ]);
  });
  it("memory+swap to swap", () => {
    expect(swapToV2(134217728, 67108864)).toBe(67108864);
    expect(swapToV2(67108864, 67108864)).toBe(0);
    expect(swapToV2(0, -1)).toBe(-1);
    expect(swapToV2(-1, 100)).toBe(-1);
    expect(() => swapToV2(100, 0)).toThrow("memory.swap: unable to set swap limit without memory limit");
    expect(() => swapToV2(100, 200)).toThrow(/should be >= memory limit/);
  });
  it("blkio weight to io.weight", () => {
    expect([10, 500, 1000].map(blkioWeightToIOWeight)).toEqual([1, 4950, 10000]);
  });
});

describe("cgroup v2 resources", () => {
  it("create() makes the directories and enables every available controller in each ancestor", () => {
    const m = v2();
    expect(m.paths).toEqual({ "": `${root}/ns/ctr` });
    expect(read("cgroup.subtree_control")).toBe(ALL.map((c) => `+${c}`).join(" "));
    // ns had no cgroup.controllers (the fake kernel made none): nothing to enable there.
    expect(existsSync(posix.join(root, "ns/cgroup.subtree_control"))).toBe(false);
  });

  it("create() enables only what is missing, and never in the leaf", () => {
    fakeV2Dir(root, ["cpu", "memory", "pids"], { "cgroup.subtree_control": "cpu memory\n" });
    fakeV2Dir(posix.join(root, "ns"), ["cpu", "memory"]);
    const m = cgroupManager({ cgroupsPath: "/ns/ctr", id: "ctr", root, mountinfo: V2_MOUNTINFO });
    m.create();
    expect(read("cgroup.subtree_control")).toBe("+pids");
    expect(read("ns/cgroup.subtree_control")).toBe("+cpu +memory");
    expect(existsSync(posix.join(root, "ns/ctr/cgroup.subtree_control"))).toBe(false);
  });

  it("writes memory, cpu, cpuset, pids with runc's conversions", () => {
    const m = v2();
    m.set({
      memory: { limit: 67108864, reservation: 33554432, swap: 134217728, kernel: 1 },
      cpu: { shares: 512, quota: 50000, period: 200000, cpus: "0-1", mems: "0", idle: 0, burst: 1000 },
      pids: { limit: 0 },
    });
    expect(read("ns/ctr/memory.max")).toBe("67108864");
    expect(read("ns/ctr/memory.low")).toBe("33554432");
    expect(read("ns/ctr/memory.swap.max")).toBe("67108864");
    expect(read("ns/ctr/cpu.weight")).toBe("59");
    expect(read("ns/ctr/cpu.max")).toBe("50000 200000");
    expect(read("ns/ctr/cpu.max.burst")).toBe("1000");
    expect(read("ns/ctr/cpu.idle")).toBe("0");
    expect(read("ns/ctr/cpuset.cpus")).toBe("0-1");
    expect(read("ns/ctr/cpuset.mems")).toBe("0");
    expect(read("ns/ctr/pids.max")).toBe("max");
  });

  it("cpu.max: 'max' for no quota and the default period", () => {
    const m = v2();
    m.set({ cpu: { quota: -1 } });
    expect(read("ns/ctr/cpu.max")).toBe("max 100000");
    m.set({ cpu: { quota: 25000 } });
    expect(read("ns/ctr/cpu.max")).toBe("25000 100000");
  });

  it("memory: -1 is max, swap == limit disables swap, no swap accounting is fine for max and 0", () => {
    const m = v2();
    m.set({ memory: { limit: -1 } });
    expect(read("ns/ctr/memory.max")).toBe("max");
    expect(read("ns/ctr/memory.swap.max")).toBe("max");
    m.set({ memory: { limit: 1000, swap: 1000 } });
    expect(read("ns/ctr/memory.swap.max")).toBe("0");
    rmSync(posix.join(root, "ns/ctr/memory.swap.max"));
    m.set({ memory: { limit: 2000, swap: 2000 } });
    expect(read("ns/ctr/memory.max")).toBe("2000");
    expect(() => m.set({ memory: { limit: 2000, swap: 3000 } })).toThrow(
      `write 1000 to ${root}/ns/ctr/memory.swap.max: ENOENT`,
    );
  });

  it("memory.checkBeforeUpdate refuses a limit below the usage", () => {
    const m = v2(ALL, { "memory.current": "5000\n" });
    expect(() => m.set({ memory: { limit: 4096, checkBeforeUpdate: true } })).toThrow(
      "rejecting memory limit 4096 <= usage 5000",
    );
    m.set({ memory: { limit: 8192, checkBeforeUpdate: true } });
    expect(read("ns/ctr/memory.max")).toBe("8192");
  });

  it("io: converted io.weight without BFQ, io.max lines for throttles", () => {
    v2().set({
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 200 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      },
    });
    expect(read("ns/ctr/io.weight")).toBe("4950");
    expect(read("ns/ctr/io.max")).toBe("8:0 wbps=1048576");
  });

  it("io: BFQ takes the weight as is, and device weights when it lists them (kernel 5.4+)", () => {
    v2(ALL, { "io.bfq.weight": "default 100\n" }).set({
      blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 200 }] },
    });
    expect(read("ns/ctr/io.bfq.weight")).toBe("8:0 200");
    expect(read("ns/ctr/io.weight")).toBe("");
  });

  it("hugetlb with reservations, rdma, and unified key/values last", () => {
    const m = v2();
    m.set({
      memory: { limit: 1 << 20 },
      hugepageLimits: [{ pageSize: "2MB", limit: 2097152 }],
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
      unified: { "memory.max": "2097152", "cgroup.freeze": "0" },
    });
    expect(read("ns/ctr/hugetlb.2MB.max")).toBe("2097152");
    expect(read("ns/ctr/hugetlb.2MB.rsvd.max")).toBe("2097152");
    expect(read("ns/ctr/rdma.max")).toBe("mlx5_1 hca_handle=3 hca_object=10000");
    expect(read("ns/ctr/memory.max")).toBe("2097152");
  });

  it("unified: refuses paths and bad names, and names an unavailable controller", () => {
    const m = v2(["memory"]);
    expect(() => m.set({ unified: { "../memory.max": "1" } })).toThrow(/must be a file name/);
    expect(() => m.set({ unified: { memorymax: "1" } })).toThrow(/CONTROLLER.PARAMETER/);
    expect(() => m.set({ unified: { "cpu.weight": "10" } })).toThrow(
      `unified resource "cpu.weight" can't be set: controller "cpu" not available`,
    );
  });

  it("names a controller that is not enabled in the cgroup, before writing anything", () => {
    const m = v2(["memory", "cpu"]);
    expect(() => m.set({ memory: { limit: 4096 }, pids: { limit: 10 } })).toThrow(
      `cannot set pids.limit: the pids controller is not enabled in ${root}/ns/ctr (enabled: memory cpu)`,
    );
    expect(read("ns/ctr/memory.max")).toBe("");
    expect(() => m.set({ hugepageLimits: [{ pageSize: "2MB", limit: 1 }] })).toThrow(
      /hugetlb controller is not enabled/,
    );
  });

  it("refuses v1-only knobs that ask for something", () => {
    const m = v2();
    expect(() => m.set({ memory: { swappiness: 10, disableOOMKiller: true } })).toThrow(
      "cannot set memory.swappiness, memory.disableOOMKiller: not supported on cgroup v2",
    );
    expect(() => m.set({ cpu: { realtimeRuntime: 1000 } })).toThrow(CgroupError);
    expect(() => m.set({ network: { classID: 1 } })).toThrow(/network.classID/);
    m.set({ memory: { swappiness: -1, disableOOMKiller: false }, network: { priorities: [] } });
  });

  it("gives device rules to the eBPF program, which a directory that is no cgroup refuses", () => {
    const m = v2();
    // A plain directory takes no BPF program (and without root the load itself is refused): the error names it.
    expect(() => m.set({ devices: [{ allow: false, access: "rwm" }] })).toThrow(
      /^set devices on .*ns\/ctr: /,
    );
    expect(existsSync(posix.join(root, "ns/ctr/devices.deny"))).toBe(false);
  });
});

describe("cgroup v2 directory operations on a fake tree", () => {
  it("apply, pids, and reload from paths", () => {
    const m = v2();
    m.apply(77);
    expect(read("ns/ctr/cgroup.procs")).toBe("77");
    fakeV2Dir(posix.join(root, "ns/ctr/sub"), [], { "cgroup.procs": "78\n79\n" });
    expect(m.pids()).toEqual([77, 78, 79]);
    const again = cgroupManagerFromPaths({ "": `${root}/ns/ctr` });
    expect(again.pids()).toEqual([77, 78, 79]);
    expect(again.paths).toEqual(m.paths);
  });

  it("freeze waits for cgroup.events, isFrozen reads cgroup.freeze", () => {
    const m = v2(ALL, { "cgroup.events": "populated 1\nfrozen 1\n" });
    m.freeze();
    expect(read("ns/ctr/cgroup.freeze")).toBe("1");
    expect(m.isFrozen()).toBe(true);
    m.thaw();
    expect(m.isFrozen()).toBe(false);
  });

  it("pids of a missing cgroup is empty", () => {
    expect(cgroupManagerFromPaths({ unified: `${root}/nope` }).pids()).toEqual([]);
  });

  it("fromPaths: v1 keys make a v1 manager, relative paths are refused", () => {
    writeFileSync(posix.join(root, "x"), "");
    expect(() => cgroupManagerFromPaths({ memory: "rel/x" })).toThrow(/is not absolute/);
    const v1 = cgroupManagerFromPaths({ memory: `${root}/m`, "": `${root}/u` });
    expect(v1.paths).toEqual({ memory: `${root}/m`, "": `${root}/u` });
  });
});
