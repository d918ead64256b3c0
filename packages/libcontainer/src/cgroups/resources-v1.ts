// linux.resources → cgroup v1 files, one function per controller, with runc's file names, orders and conversions
// (libcontainer/cgroups/fs). A resource whose controller is not mounted is an error naming it; kernel memory
// (memory.kernel, memory.kernelTCP) is ignored as runc ignores it, and so is memory.useHierarchy.

import type { BlockIO, CPU, DeviceCgroup, Memory, Network, Resources } from "../spec.js";
import { CgroupError } from "./errors.js";
import { exists, readIfExists, readValue, writeValue } from "./files.js";
import { writeHugetlb } from "./hugetlb.js";
import { deviceRule, int, isSet, rdmaLines } from "./values.js";

type Paths = Record<string, string>;

function need(paths: Paths, controller: string, what: string): string {
  const dir = paths[controller];
  if (dir === undefined) {
    throw new CgroupError(`cannot set ${what}: the ${controller} cgroup controller is not mounted`);
  }
  return dir;
}

/** The controllers `r` writes to, with the field that needs each, for a check before anything is written. */
export function controllersNeededV1(r: Resources): [controller: string, field: string][] {
  const out: [string, string][] = [];
  const { cpu, memory: m, blockIO: b, network: n } = r;
  if (cpu?.cpus || cpu?.mems) out.push(["cpuset", cpu.cpus ? "cpu.cpus" : "cpu.mems"]);
  if (r.devices !== undefined) out.push(["devices", "devices"]);
  if (m && (isSet(m.limit) || isSet(m.swap) || isSet(m.reservation) || m.disableOOMKiller))
    out.push(["memory", "memory"]);
  if (m?.swappiness !== undefined && m.swappiness !== -1) out.push(["memory", "memory.swappiness"]);
  if (cpu && (isSet(cpu.shares) || isSet(cpu.quota) || isSet(cpu.period) || cpu.burst !== undefined))
    out.push(["cpu", "cpu"]);
  if (cpu && (cpu.idle !== undefined || isSet(cpu.realtimePeriod) || isSet(cpu.realtimeRuntime)))
    out.push(["cpu", "cpu"]);
  if (r.pids !== undefined) out.push(["pids", "pids.limit"]);
  const bl = b && [
    b.weightDevice,
    b.throttleReadBpsDevice,
    b.throttleWriteBpsDevice,
    b.throttleReadIOPSDevice,
    b.throttleWriteIOPSDevice,
  ];
  if (b && (isSet(b.weight) || isSet(b.leafWeight) || bl?.some((l) => (l?.length ?? 0) > 0)))
    out.push(["blkio", "blockIO"]);
  if ((r.hugepageLimits?.length ?? 0) > 0) out.push(["hugetlb", "hugepageLimits"]);
  if (isSet(n?.classID)) out.push(["net_cls", "network.classID"]);
  if ((n?.priorities?.length ?? 0) > 0) out.push(["net_prio", "network.priorities"]);
  if (r.rdma && rdmaLines(r.rdma).length > 0) out.push(["rdma", "rdma"]);
  return out;
}

/** Applies linux.resources in runc's controller order, after checking that every controller needed is there. */
export function setResourcesV1(paths: Paths, r: Resources): void {
  if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
    throw new CgroupError("cannot set unified resources: they need cgroup v2 and this host uses cgroup v1");
  }
  for (const [controller, field] of controllersNeededV1(r)) need(paths, controller, field);
  if (r.cpu) setCpuset(paths, r.cpu);
  if (r.devices !== undefined) setDevices(paths, r.devices);
  if (r.memory) setMemory(paths, r.memory);
  if (r.cpu) setCpu(paths, r.cpu);
  if (r.pids !== undefined) {
    // "max" for no limit (runc: any value <= 0).
    const limit = r.pids.limit > 0 ? int(r.pids.limit, "pids.limit") : "max";
    writeValue(need(paths, "pids", "pids.limit"), "pids.max", limit);
  }
  if (r.blockIO) setBlkio(paths, r.blockIO);
  if (r.hugepageLimits && r.hugepageLimits.length > 0) setHugetlb(paths, r.hugepageLimits);
  if (r.network) setNetwork(paths, r.network);
  if (r.rdma) {
    const lines = rdmaLines(r.rdma);
    if (lines.length > 0) {
      const dir = need(paths, "rdma", "rdma");
      for (const line of lines) writeValue(dir, "rdma.max", line);
    }
  }
}

function setCpuset(paths: Paths, cpu: CPU): void {
  if (cpu.cpus) writeValue(need(paths, "cpuset", "cpu.cpus"), "cpuset.cpus", cpu.cpus);
  if (cpu.mems) writeValue(need(paths, "cpuset", "cpu.mems"), "cpuset.mems", cpu.mems);
}

/**
 * Deny everything first, then replay the rules in order, so the result is exactly the list (an allow-list
 * unless it starts with an "allow all"). The caller passes the complete list: the spec's rules followed by the
 * runtime's default devices, as runc appends its AllowedDevices.
 */
function setDevices(paths: Paths, rules: DeviceCgroup[]): void {
  const lines = rules.map((rule, i) => ({
    file: rule.allow ? "devices.allow" : "devices.deny",
    line: deviceRule(rule, i),
  }));
  const dir = need(paths, "devices", "devices");
  writeValue(dir, "devices.deny", "a");
  for (const { file, line } of lines) writeValue(dir, file, line);
}

const MEMSW = "memory.memsw.limit_in_bytes";
const LIMIT = "memory.limit_in_bytes";

function setMemory(paths: Paths, m: Memory): void {
  const swappiness = m.swappiness !== undefined && m.swappiness !== -1 ? m.swappiness : undefined;
  if (
    !isSet(m.limit) &&
    !isSet(m.swap) &&
    !isSet(m.reservation) &&
    swappiness === undefined &&
    !m.disableOOMKiller
  ) {
    return;
  }
  const dir = need(paths, "memory", "memory");
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  // An unlimited memory with no swap given means unlimited memory+swap too, where the kernel accounts swap.
  if (limit === -1 && swap === 0 && exists(dir, MEMSW)) swap = -1;
  const setLimit = () => {
    if (limit !== 0) writeLimit(dir, limit);
  };
  const setSwap = () => {
    if (swap !== 0) writeValue(dir, MEMSW, int(swap, "memory.swap"));
  };
  // memsw must stay >= limit at every step: raise memsw first when it grows, lower the limit first otherwise.
  if (limit !== 0 && swap !== 0 && (swap === -1 || BigInt(readValue(dir, LIMIT).trim()) < BigInt(swap))) {
    setSwap();
    setLimit();
  } else {
    setLimit();
    setSwap();
  }
  if (isSet(m.reservation))
    writeValue(dir, "memory.soft_limit_in_bytes", int(m.reservation, "memory.reservation"));
  if (m.disableOOMKiller) writeValue(dir, "memory.oom_control", "1");
  if (swappiness !== undefined) {
    if (!Number.isInteger(swappiness) || swappiness < 0 || swappiness > 100) {
      throw new CgroupError(`invalid memory swappiness value: ${swappiness} (valid range is 0-100)`);
    }
    writeValue(dir, "memory.swappiness", String(swappiness));
  }
}

/** EBUSY here means the usage is above the new limit: say so, as runc does. */
function writeLimit(dir: string, limit: number): void {
  try {
    writeValue(dir, LIMIT, int(limit, "memory.limit"));
  } catch (err) {
    if (err instanceof CgroupError && err.code === "EBUSY") {
      const usage = readIfExists(dir, "memory.usage_in_bytes")?.trim();
      const peak = readIfExists(dir, "memory.max_usage_in_bytes")?.trim();
      err.message += ` (current usage: ${usage ?? "unknown"}, peak usage: ${peak ?? "unknown"})`;
    }
    throw err;
  }
}

/** Writes `file`; when the kernel refuses with EINVAL and `retryLater`, returns false so the caller retries. */
function writeOrDefer(dir: string, file: string, value: string, retryLater: boolean): boolean {
  try {
    writeValue(dir, file, value);
    return true;
  } catch (err) {
    if (retryLater && err instanceof CgroupError && err.code === "EINVAL") return false;
    throw err;
  }
}

function setCpu(paths: Paths, cpu: CPU): void {
  const rt = isSet(cpu.realtimePeriod) || isSet(cpu.realtimeRuntime);
  if (
    !isSet(cpu.shares) &&
    !isSet(cpu.quota) &&
    !isSet(cpu.period) &&
    cpu.burst === undefined &&
    cpu.idle === undefined &&
    !rt
  ) {
    return;
  }
  const dir = need(paths, "cpu", "cpu");
  if (isSet(cpu.shares)) {
    writeValue(dir, "cpu.shares", int(cpu.shares, "cpu.shares"));
    // The kernel clamps out-of-range shares silently: report the bound instead.
    const got = Number(readValue(dir, "cpu.shares").trim());
    if (cpu.shares > got) throw new CgroupError(`the maximum allowed cpu-shares is ${got}`);
    if (cpu.shares < got) throw new CgroupError(`the minimum allowed cpu-shares is ${got}`);
  }
  // A new period can be refused (EINVAL) against the current quota or burst: write it again after the quota.
  const quota = cpu.quota ?? 0;
  let periodLater: string | undefined;
  if (isSet(cpu.period)) {
    const period = int(cpu.period, "cpu.period");
    if (!writeOrDefer(dir, "cpu.cfs_period_us", period, quota !== 0)) periodLater = period;
  }
  let burstLater: string | undefined;
  if (cpu.burst !== undefined) {
    const burst = int(cpu.burst, "cpu.burst");
    if (!writeOrDefer(dir, "cpu.cfs_burst_us", burst, quota !== 0)) burstLater = burst;
  }
  if (quota !== 0) {
    writeValue(dir, "cpu.cfs_quota_us", int(quota, "cpu.quota"));
    if (periodLater !== undefined) writeValue(dir, "cpu.cfs_period_us", periodLater);
    if (burstLater !== undefined) writeValue(dir, "cpu.cfs_burst_us", burstLater);
  }
  if (cpu.idle !== undefined) writeValue(dir, "cpu.idle", int(cpu.idle, "cpu.idle"));
  if (rt) setRealtime(dir, cpu);
}

function setRealtime(dir: string, cpu: CPU): void {
  const runtime = cpu.realtimeRuntime ?? 0;
  let periodLater: string | undefined;
  if (isSet(cpu.realtimePeriod)) {
    const period = int(cpu.realtimePeriod, "cpu.realtimePeriod");
    if (!writeOrDefer(dir, "cpu.rt_period_us", period, runtime !== 0)) periodLater = period;
  }
  if (runtime !== 0) {
    writeValue(dir, "cpu.rt_runtime_us", int(runtime, "cpu.realtimeRuntime"));
    if (periodLater !== undefined) writeValue(dir, "cpu.rt_period_us", periodLater);
  }
}

function setBlkio(paths: Paths, b: BlockIO): void {
  const throttles: [string, BlockIO["throttleReadBpsDevice"]][] = [
    ["blkio.throttle.read_bps_device", b.throttleReadBpsDevice],
    ["blkio.throttle.write_bps_device", b.throttleWriteBpsDevice],
    ["blkio.throttle.read_iops_device", b.throttleReadIOPSDevice],
    ["blkio.throttle.write_iops_device", b.throttleWriteIOPSDevice],
  ];
  const any =
    isSet(b.weight) ||
    isSet(b.leafWeight) ||
    (b.weightDevice?.length ?? 0) > 0 ||
    throttles.some(([, l]) => l?.length);
  if (!any) return;
  const dir = need(paths, "blkio", "blockIO");
  // CFQ's files, or BFQ's where the kernel has no CFQ (every kernel since 5.0).
  const cfq = exists(dir, "blkio.weight");
  const weightFile = cfq ? "blkio.weight" : "blkio.bfq.weight";
  const weightDeviceFile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
  if (isSet(b.weight)) writeValue(dir, weightFile, int(b.weight, "blockIO.weight"));
  if (isSet(b.leafWeight)) writeValue(dir, "blkio.leaf_weight", int(b.leafWeight, "blockIO.leafWeight"));
  for (const wd of b.weightDevice ?? []) {
    const dev = `${int(wd.major, "blockIO.weightDevice")}:${int(wd.minor, "blockIO.weightDevice")}`;
    if (isSet(wd.weight))
      writeValue(dir, weightDeviceFile, `${dev} ${int(wd.weight, "blockIO.weightDevice")}`);
    if (isSet(wd.leafWeight)) {
      writeValue(dir, "blkio.leaf_weight_device", `${dev} ${int(wd.leafWeight, "blockIO.weightDevice")}`);
    }
  }
  for (const [file, list] of throttles) {
    for (const td of list ?? []) {
      writeValue(dir, file, `${int(td.major, file)}:${int(td.minor, file)} ${int(td.rate, file)}`);
    }
  }
}

function setHugetlb(paths: Paths, limits: NonNullable<Resources["hugepageLimits"]>): void {
  writeHugetlb(need(paths, "hugetlb", "hugepageLimits"), limits, "limit_in_bytes");
}

function setNetwork(paths: Paths, n: Network): void {
  if (isSet(n.classID))
    writeValue(need(paths, "net_cls", "network.classID"), "net_cls.classid", int(n.classID, "classID"));
  for (const p of n.priorities ?? []) {
    if (!/^[^\s/]+$/.test(p.name))
      throw new CgroupError(`network.priorities: invalid interface ${JSON.stringify(p.name)}`);
    const dir = need(paths, "net_prio", "network.priorities");
    writeValue(dir, "net_prio.ifpriomap", `${p.name} ${int(p.priority, "network.priorities")}`);
  }
}
