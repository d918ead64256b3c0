import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { posix } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeV1Dir, HYBRID_MOUNTINFO, HYBRID_SELF_CGROUP, V1_MOUNTINFO, V1_SELF_CGROUP } from "./fixtures.js";
import { CgroupError, cgroupManager } from "./index.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(posix.join(tmpdir(), "cg-v1-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const read = (...p: string[]) => readFileSync(posix.join(root, ...p), "utf8");

/** This host's layout, with each hierarchy's root and the container's directory as the kernel would show them. */
function hybrid(cgroupsPath = "/ns/ctr", dirContent: Record<string, Record<string, string>> = {}) {
  const hierarchies = [
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "blkio",
    "pids",
    "systemd",
  ];
  for (const h of hierarchies) {
    fakeV1Dir(posix.join(root, h), h, h === "cpuset" ? { "cpuset.cpus": "0-3\n", "cpuset.mems": "0\n" } : {});
    fakeV1Dir(posix.join(root, h, cgroupsPath), h, dirContent[h]);
  }
  return cgroupManager({
    cgroupsPath,
    id: "ctr",
    root,
    mountinfo: HYBRID_MOUNTINFO,
    selfCgroup: HYBRID_SELF_CGROUP,
  });
}

describe("cgroup v1 resources", () => {
  it("writes memory, cpu, cpuset and pids with runc's file names", () => {
    const m = hybrid();
    m.set({
      memory: {
        limit: 67108864,
        reservation: 33554432,
        swap: 134217728,
        swappiness: 10,
        disableOOMKiller: true,
        kernel: 1 << 20,
      },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: "1-2", mems: "0", idle: 1, burst: 1000 },
      pids: { limit: 100 },
    });
    expect(read("memory/ns/ctr/memory.limit_in_bytes")).toBe("67108864");
    expect(read("memory/ns/ctr/memory.memsw.limit_in_bytes")).toBe("134217728");
    expect(read("memory/ns/ctr/memory.soft_limit_in_bytes")).toBe("33554432");
    expect(read("memory/ns/ctr/memory.swappiness")).toBe("10");
    expect(read("memory/ns/ctr/memory.oom_control")).toBe("1");
    // Kernel memory is ignored, as runc ignores it.
    expect(read("memory/ns/ctr/memory.kmem.limit_in_bytes")).toBe("");
    expect(read("cpu/ns/ctr/cpu.cfs_quota_us")).toBe("50000");
    expect(read("cpu/ns/ctr/cpu.cfs_period_us")).toBe("100000");
    expect(read("cpu/ns/ctr/cpu.cfs_burst_us")).toBe("1000");
    expect(read("cpu/ns/ctr/cpu.idle")).toBe("1");
    expect(read("cpuset/ns/ctr/cpuset.cpus")).toBe("1-2");
    expect(read("cpuset/ns/ctr/cpuset.mems")).toBe("0");
    expect(read("pids/ns/ctr/pids.max")).toBe("100");
  });

  it("writes 'max' for a pids limit <= 0, and -1 for unlimited memory with memsw", () => {
    const m = hybrid();
    m.set({ pids: { limit: 0 }, memory: { limit: -1 } });
    expect(read("pids/ns/ctr/pids.max")).toBe("max");
    expect(read("memory/ns/ctr/memory.limit_in_bytes")).toBe("-1");
    expect(read("memory/ns/ctr/memory.memsw.limit_in_bytes")).toBe("-1");
    m.set({ pids: { limit: -1 } });
    expect(read("pids/ns/ctr/pids.max")).toBe("max");
  });

  it("writes realtime period and runtime", () => {
    hybrid().set({ cpu: { realtimePeriod: 1000000, realtimeRuntime: 950000 } });
    expect(read("cpu/ns/ctr/cpu.rt_period_us")).toBe("1000000");
    expect(read("cpu/ns/ctr/cpu.rt_runtime_us")).toBe("950000");
  });

  it("leaves everything alone for zeros and absent fields, as runc", () => {
    const m = hybrid();
    m.set({ memory: { limit: 0, swap: 0 }, cpu: { shares: 0, quota: 0 } });
    m.set(undefined);
    expect(read("memory/ns/ctr/memory.limit_in_bytes")).toBe("");
    expect(read("cpu/ns/ctr/cpu.shares")).toBe("");
  });

  it("denies all devices first, then writes the rules", () => {
    const m = hybrid();
    m.set({ devices: [{ allow: false, access: "rwm" }] });
    expect(read("devices/ns/ctr/devices.deny")).toBe("a *:* rwm");
    m.set({ devices: [{ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }] });
    expect(read("devices/ns/ctr/devices.deny")).toBe("a");
    expect(read("devices/ns/ctr/devices.allow")).toBe("c 1:3 rwm");
    m.set({ devices: [{ allow: true, type: "c", major: 136 }] });
    expect(read("devices/ns/ctr/devices.allow")).toBe("c 136:* rwm");
    expect(() => m.set({ devices: [{ allow: true, type: "x" }] })).toThrow(
      /devices\[0\]: invalid device type "x"/,
    );
    expect(() => m.set({ devices: [{ allow: true, access: "rwx" }] })).toThrow(/invalid access "rwx"/);
  });

  it("uses BFQ's blkio files where CFQ's are missing", () => {
    hybrid().set({
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 8, minor: 0, weight: 300 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
      },
    });
    expect(read("blkio/ns/ctr/blkio.bfq.weight")).toBe("500");
    expect(read("blkio/ns/ctr/blkio.bfq.weight_device")).toBe("8:0 300");
    expect(read("blkio/ns/ctr/blkio.throttle.read_bps_device")).toBe("8:0 1048576");
    expect(read("blkio/ns/ctr/blkio.throttle.write_iops_device")).toBe("8:16 100");
  });

  it("uses CFQ's blkio.weight where it exists", () => {
    hybrid("/ns/ctr", { blkio: { "blkio.weight": "", "blkio.weight_device": "" } }).set({
      blockIO: { weight: 700 },
    });
    expect(read("blkio/ns/ctr/blkio.weight")).toBe("700");
    expect(read("blkio/ns/ctr/blkio.bfq.weight")).toBe("");
  });

  it("writes hugetlb (with reservations when the kernel has them), net_cls and net_prio", () => {
    for (const h of [
      "cpu,cpuacct",
      "memory",
      "net_cls,net_prio",
      "pids",
      "devices",
      "freezer",
      "hugetlb",
      "cpuset",
      "blkio",
      "systemd",
    ]) {
      fakeV1Dir(posix.join(root, h), h);
      for (const c of h.split(",")) fakeV1Dir(posix.join(root, h, "x"), c);
    }
    const m = cgroupManager({
      cgroupsPath: "/x",
      id: "x",
      root,
      mountinfo: V1_MOUNTINFO,
      selfCgroup: V1_SELF_CGROUP,
    });
    m.set({
      hugepageLimits: [
        { pageSize: "2MB", limit: 4194304 },
        { pageSize: "1GB", limit: 1073741824 },
      ],
      network: { classID: 1048577, priorities: [{ name: "eth0", priority: 5 }] },
    });
    expect(read("hugetlb/x/hugetlb.2MB.limit_in_bytes")).toBe("4194304");
    expect(read("hugetlb/x/hugetlb.2MB.rsvd.limit_in_bytes")).toBe("4194304");
    expect(read("hugetlb/x/hugetlb.1GB.limit_in_bytes")).toBe("1073741824");
    expect(read("net_cls,net_prio/x/net_cls.classid")).toBe("1048577");
    expect(read("net_cls,net_prio/x/net_prio.ifpriomap")).toBe("eth0 5");
    expect(() => m.set({ hugepageLimits: [{ pageSize: "../2MB", limit: 1 }] })).toThrow(/invalid page size/);
  });

  it("names a controller the host does not mount, before writing anything", () => {
    const m = hybrid();
    const err = (() => {
      try {
        m.set({ pids: { limit: 5 }, hugepageLimits: [{ pageSize: "2MB", limit: 1 }] });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toBe(
      "cannot set hugepageLimits: the hugetlb cgroup controller is not mounted",
    );
    expect(read("pids/ns/ctr/pids.max")).toBe("");
    expect(() => m.set({ network: { classID: 1 } })).toThrow(
      "cannot set network.classID: the net_cls cgroup controller is not mounted",
    );
  });

  it("refuses unified resources on v1 unless empty", () => {
    const m = hybrid();
    expect(() => m.set({ unified: { "memory.high": "1000" } })).toThrow(/need cgroup v2/);
    m.set({ unified: {} });
  });

  it("checks swappiness like runc", () => {
    expect(() => hybrid().set({ memory: { swappiness: 101 } })).toThrow(
      "invalid memory swappiness value: 101 (valid range is 0-100)",
    );
  });

  it("puts the value and the file in a write error", () => {
    const m = hybrid();
    rmSync(posix.join(root, "memory/ns/ctr/memory.memsw.limit_in_bytes"));
    writeFileSync(posix.join(root, "memory/ns/ctr/memory.limit_in_bytes"), "9223372036854771712\n");
    expect(() => m.set({ memory: { limit: 1000, swap: 2000 } })).toThrow(
      `write 2000 to ${root}/memory/ns/ctr/memory.memsw.limit_in_bytes: ENOENT`,
    );
  });
});

describe("cgroup v1 directories", () => {
  it("paths name every hierarchy, the named systemd one and the unified tree", () => {
    const m = hybrid();
    expect(Object.keys(m.paths).sort()).toEqual(
      [
        "",
        "blkio",
        "cpu",
        "cpuacct",
        "cpuset",
        "devices",
        "freezer",
        "memory",
        "name=systemd",
        "pids",
      ].sort(),
    );
    expect(m.paths[""]).toBe(`${root}/unified/ns/ctr`);
  });

  it("create() gives new cpuset levels their parent's cpus and mems", () => {
    // The kernel creates a cpuset directory with empty cpuset.cpus and cpuset.mems.
    fakeV1Dir(posix.join(root, "cpuset"), "cpuset", { "cpuset.cpus": "0-3\n", "cpuset.mems": "0\n" });
    fakeV1Dir(posix.join(root, "cpuset/ns"), "cpuset");
    fakeV1Dir(posix.join(root, "cpuset/ns/ctr"), "cpuset", { "cpuset.cpus": "2\n" });
    const m = cgroupManager({ cgroupsPath: "/ns/ctr", id: "ctr", root, mountinfo: HYBRID_MOUNTINFO });
    m.create();
    expect(read("cpuset/ns/cpuset.cpus")).toBe("0-3");
    expect(read("cpuset/ns/cpuset.mems")).toBe("0");
    expect(read("cpuset/ns/ctr/cpuset.cpus")).toBe("2\n");
    expect(read("cpuset/ns/ctr/cpuset.mems")).toBe("0");
    // Every other hierarchy's directory was made.
    for (const dir of Object.values(m.paths)) expect(existsSync(dir)).toBe(true);
  });

  it("apply() writes the pid into every directory once, the unified one included", () => {
    const m = hybrid();
    fakeV1Dir(posix.join(root, "unified/ns/ctr"), "unified");
    m.apply(4242);
    for (const dir of new Set(Object.values(m.paths)))
      expect(readFileSync(`${dir}/cgroup.procs`, "utf8")).toBe("4242");
  });

  it("pids() lists the processes of the cgroup and its children", () => {
    const m = hybrid();
    writeFileSync(posix.join(root, "devices/ns/ctr/cgroup.procs"), "10\n12\n");
    fakeV1Dir(posix.join(root, "devices/ns/ctr/child"), "devices", { "cgroup.procs": "11\n" });
    expect(m.pids()).toEqual([10, 11, 12]);
  });
});
