import { mkdirSync, writeFileSync } from "node:fs";
import { posix } from "node:path";

// Sample /proc/self/mountinfo and /proc/self/cgroup texts for the unit tests.

/** This development host: cgroup v1 controllers plus an empty cgroup2 tree at /sys/fs/cgroup/unified. */
export const HYBRID_MOUNTINFO = `22 1 253:1 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

export const HYBRID_SELF_CGROUP = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/38aa7e6e089ba6637dcf5db4fd0ca190
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

/** A systemd host on pure cgroup v2 (Debian 12 default), the runtime started from a user session. */
export const V2_MOUNTINFO = `21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
30 21 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

export const V2_SELF_CGROUP = "0::/user.slice/user-1000.slice/session-3.scope\n";

/** An older v1-only host: cpu and cpuacct mounted together (with symlinks beside them), net_cls,net_prio too. */
export const V1_MOUNTINFO = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
32 25 0:29 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,devices
33 25 0:30 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,freezer
34 25 0:31 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,hugetlb
35 25 0:32 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,cpuset
36 25 0:33 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,blkio
`;

export const V1_SELF_CGROUP = `11:blkio:/system.slice/containerd.service
10:cpuset:/
9:hugetlb:/
8:freezer:/
7:devices:/system.slice/containerd.service
6:pids:/system.slice/containerd.service
5:net_cls,net_prio:/
4:memory:/system.slice/containerd.service
3:cpu,cpuacct:/system.slice/containerd.service
1:name=systemd:/system.slice/containerd.service
`;

// Temporary trees that mimic what the kernel shows in a cgroup directory, for the `root` option. Only the files
// the manager may write are there, empty unless given: a write to anything else fails with ENOENT as on a kernel
// without that controller or feature.

const V1_FILES: Record<string, string[]> = {
  cpu: [
    "cpu.shares",
    "cpu.cfs_period_us",
    "cpu.cfs_quota_us",
    "cpu.cfs_burst_us",
    "cpu.idle",
    "cpu.rt_period_us",
    "cpu.rt_runtime_us",
  ],
  cpuacct: ["cpuacct.usage"],
  cpuset: ["cpuset.cpus", "cpuset.mems"],
  memory: [
    "memory.limit_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.soft_limit_in_bytes",
    "memory.swappiness",
    "memory.oom_control",
    "memory.kmem.limit_in_bytes",
  ],
  devices: ["devices.allow", "devices.deny", "devices.list"],
  freezer: ["freezer.state"],
  blkio: [
    "blkio.bfq.weight",
    "blkio.bfq.weight_device",
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
  ],
  pids: ["pids.max"],
  hugetlb: ["hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.rsvd.limit_in_bytes", "hugetlb.1GB.limit_in_bytes"],
  net_cls: ["net_cls.classid"],
  net_prio: ["net_prio.ifpriomap"],
  systemd: [],
};

/** A v1 cgroup directory of `controller` (the mount's directory name) with its files. */
export function fakeV1Dir(dir: string, controller: string, content: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ["cgroup.procs", ...(V1_FILES[controller] ?? [])])
    writeFileSync(posix.join(dir, f), content[f] ?? "");
  for (const [f, c] of Object.entries(content)) writeFileSync(posix.join(dir, f), c);
}

const V2_FILES: Record<string, string[]> = {
  cpu: ["cpu.weight", "cpu.max", "cpu.idle", "cpu.max.burst"],
  cpuset: ["cpuset.cpus", "cpuset.mems"],
  memory: ["memory.max", "memory.low", "memory.swap.max", "memory.current"],
  io: ["io.weight", "io.max"],
  pids: ["pids.max"],
  hugetlb: ["hugetlb.2MB.max", "hugetlb.2MB.rsvd.max"],
  rdma: ["rdma.max"],
};

/** A v2 cgroup directory with `controllers` enabled (in its cgroup.controllers) and their files. */
export function fakeV2Dir(dir: string, controllers: string[], content: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  const core = ["cgroup.procs", "cgroup.subtree_control", "cgroup.freeze", "cgroup.events"];
  for (const f of [...core, ...controllers.flatMap((c) => V2_FILES[c] ?? [])])
    writeFileSync(posix.join(dir, f), "");
  writeFileSync(posix.join(dir, "cgroup.controllers"), `${controllers.join(" ")}\n`);
  for (const [f, c] of Object.entries(content)) writeFileSync(posix.join(dir, f), c);
}
