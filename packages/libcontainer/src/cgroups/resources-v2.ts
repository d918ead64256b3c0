// linux.resources → cgroup v2 files of one directory, with runc's file names and conversions
// (libcontainer/cgroups/fs2). Every controller needed must be enabled in the cgroup (listed in its
// cgroup.controllers) before anything is written; otherwise the error names it.
//
// Not written here:
// - devices: v2 has no device files; access control is an eBPF program attached to the cgroup (devices-ebpf.ts,
//   called by the v2 manager's set()).
// - memory.kernel, memory.kernelTCP, memory.useHierarchy, blockIO.leafWeight: ignored as runc ignores them (v2 has
//   no kernel-memory limit or leaf weights, and is always hierarchical).
// - v1-only knobs with no v2 file (swappiness, disableOOMKiller, realtime, network classID/priorities): refused
//   when they ask for something, where runc silently drops them.

import type { BlockIO, CPU, Memory, Resources } from "../spec.js";
import { CgroupError } from "./errors.js";
import { readIfExists, writeValue } from "./files.js";
import { writeHugetlb } from "./hugetlb.js";
import { blkioWeightToIOWeight, cpuSharesToWeight, int, isSet, rdmaLines, swapToV2 } from "./values.js";

const isMemorySet = (m: Memory | undefined): m is Memory =>
  m !== undefined && (isSet(m.limit) || isSet(m.swap) || isSet(m.reservation));
const isCpuSet = (c: CPU | undefined): c is CPU =>
  c !== undefined &&
  (isSet(c.shares) || isSet(c.quota) || isSet(c.period) || c.idle !== undefined || c.burst !== undefined);
const throttlesOf = (b: BlockIO): [string, BlockIO["throttleReadBpsDevice"]][] => [
  ["rbps", b.throttleReadBpsDevice],
  ["wbps", b.throttleWriteBpsDevice],
  ["riops", b.throttleReadIOPSDevice],
  ["wiops", b.throttleWriteIOPSDevice],
];
const isIoSet = (b: BlockIO | undefined): b is BlockIO =>
  b !== undefined &&
  (isSet(b.weight) || (b.weightDevice?.length ?? 0) > 0 || throttlesOf(b).some(([, l]) => l?.length));

/** Fields with no cgroup v2 equivalent that ask for something. */
function refuseV1Only(r: Resources): void {
  const m = r.memory;
  const refused: string[] = [];
  if (m?.swappiness !== undefined && m.swappiness !== -1) refused.push("memory.swappiness");
  if (m?.disableOOMKiller) refused.push("memory.disableOOMKiller");
  if (isSet(r.cpu?.realtimeRuntime)) refused.push("cpu.realtimeRuntime");
  if (isSet(r.cpu?.realtimePeriod)) refused.push("cpu.realtimePeriod");
  if (isSet(r.network?.classID)) refused.push("network.classID");
  if ((r.network?.priorities?.length ?? 0) > 0) refused.push("network.priorities");
  if (refused.length > 0)
    throw new CgroupError(`cannot set ${refused.join(", ")}: not supported on cgroup v2`);
}

/** The controllers `r` needs enabled in the cgroup, with the field that needs each. */
export function controllersNeededV2(r: Resources): [controller: string, field: string][] {
  const out: [string, string][] = [];
  if (r.pids !== undefined) out.push(["pids", "pids.limit"]);
  if (isMemorySet(r.memory)) out.push(["memory", "memory"]);
  if (isIoSet(r.blockIO)) out.push(["io", "blockIO"]);
  if (isCpuSet(r.cpu)) out.push(["cpu", "cpu"]);
  if (r.cpu?.cpus || r.cpu?.mems) out.push(["cpuset", r.cpu.cpus ? "cpu.cpus" : "cpu.mems"]);
  if ((r.hugepageLimits?.length ?? 0) > 0) out.push(["hugetlb", "hugepageLimits"]);
  if (r.rdma && rdmaLines(r.rdma).length > 0) out.push(["rdma", "rdma"]);
  return out;
}

/** Applies linux.resources to the v2 cgroup `dir`, whose enabled controllers are `controllers`. */
export function setResourcesV2(dir: string, r: Resources, controllers: ReadonlySet<string>): void {
  refuseV1Only(r);
  for (const [controller, field] of controllersNeededV2(r)) {
    if (!controllers.has(controller)) {
      const have = [...controllers].join(" ") || "none";
      throw new CgroupError(
        `cannot set ${field}: the ${controller} controller is not enabled in ${dir} (enabled: ${have})`,
      );
    }
  }
  const unified = r.unified ?? {};
  for (const key of Object.keys(unified)) checkUnifiedKey(key);

  if (r.pids !== undefined)
    writeValue(dir, "pids.max", r.pids.limit > 0 ? int(r.pids.limit, "pids.limit") : "max");
  if (isMemorySet(r.memory)) setMemory(dir, r.memory);
  if (isIoSet(r.blockIO)) setIo(dir, r.blockIO);
  if (isCpuSet(r.cpu)) setCpu(dir, r.cpu);
  if (r.cpu?.cpus) writeValue(dir, "cpuset.cpus", r.cpu.cpus);
  if (r.cpu?.mems) writeValue(dir, "cpuset.mems", r.cpu.mems);
  if (r.hugepageLimits && r.hugepageLimits.length > 0) writeHugetlb(dir, r.hugepageLimits, "max");
  if (r.rdma) for (const line of rdmaLines(r.rdma)) writeValue(dir, "rdma.max", line);
  // Last, so that explicit unified values win over the converted ones.
  for (const [key, value] of Object.entries(unified)) setUnified(dir, key, value, controllers);
}

/** -1 is "max" (v1's way to remove a limit); 0 is unset. */
const limitStr = (v: number, field: string): string => (v === -1 ? "max" : int(v, field));

function setMemory(dir: string, m: Memory): void {
  const limit = m.limit ?? 0;
  if (m.checkBeforeUpdate && (limit > 0 || (m.swap ?? 0) > 0)) {
    // Best effort, as runc: a cgroup whose usage cannot be read is not checked.
    const raw = readIfExists(dir, "memory.current");
    const usage = raw === undefined ? undefined : BigInt(raw.trim());
    if (usage !== undefined && (m.swap ?? 0) > 0 && BigInt(m.swap ?? 0) <= usage) {
      throw new CgroupError(`rejecting memory+swap limit ${m.swap} <= usage ${usage}`);
    }
    if (usage !== undefined && limit > 0 && BigInt(limit) <= usage) {
      throw new CgroupError(`rejecting memory limit ${limit} <= usage ${usage}`);
    }
  }
  const swap = swapToV2(m.swap ?? 0, limit);
  // 0 after the conversion with a swap given means memory == memory+swap: no swap at all. Never write "" (= 0).
  const swapValue = swap === 0 ? ((m.swap ?? 0) > 0 ? "0" : undefined) : limitStr(swap, "memory.swap");
  if (swapValue !== undefined) {
    try {
      writeValue(dir, "memory.swap.max", swapValue);
    } catch (err) {
      // Without swap accounting the file does not exist; "no limit" and "no swap" then hold anyway.
      const harmless = swapValue === "max" || swapValue === "0";
      if (!(err instanceof CgroupError && err.code === "ENOENT" && harmless)) throw err;
    }
  }
  if (limit !== 0) writeValue(dir, "memory.max", limitStr(limit, "memory.limit"));
  if (isSet(m.reservation)) writeValue(dir, "memory.low", limitStr(m.reservation, "memory.reservation"));
}

function setCpu(dir: string, c: CPU): void {
  if (c.idle !== undefined) writeValue(dir, "cpu.idle", int(c.idle, "cpu.idle"));
  if (isSet(c.shares)) writeValue(dir, "cpu.weight", String(cpuSharesToWeight(c.shares)));
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  // A burst above the current quota is refused (EINVAL): write it again once the quota is set.
  let burstLater: string | undefined;
  if (c.burst !== undefined) {
    const burst = int(c.burst, "cpu.burst");
    try {
      writeValue(dir, "cpu.max.burst", burst);
    } catch (err) {
      if (!(err instanceof CgroupError && err.code === "EINVAL" && quota !== 0)) throw err;
      burstLater = burst;
    }
  }
  if (quota !== 0 || period !== 0) {
    // "max" for no quota (any value <= 0); the kernel's default period is 100ms.
    const q = quota > 0 ? int(quota, "cpu.quota") : "max";
    writeValue(dir, "cpu.max", `${q} ${period !== 0 ? int(period, "cpu.period") : "100000"}`);
    if (burstLater !== undefined) writeValue(dir, "cpu.max.burst", burstLater);
  }
}

function setIo(dir: string, b: BlockIO): void {
  // BFQ takes blkio's weights as they are, io.weight needs a conversion. io.bfq.weight accepts per-device lines
  // since kernel 5.4 ("default 100" is then what it reads); before that, device weights are skipped, as runc does.
  const bfq = readIfExists(dir, "io.bfq.weight");
  if (isSet(b.weight)) {
    const w = int(b.weight, "blockIO.weight");
    if (bfq !== undefined) writeValue(dir, "io.bfq.weight", w);
    else writeValue(dir, "io.weight", String(blkioWeightToIOWeight(b.weight)));
  }
  const perDevice = bfq !== undefined && !/^\s*[0-9]+\s*$/.test(bfq);
  if (perDevice) {
    for (const wd of b.weightDevice ?? []) {
      if (!isSet(wd.weight)) continue;
      const f = "blockIO.weightDevice";
      writeValue(dir, "io.bfq.weight", `${int(wd.major, f)}:${int(wd.minor, f)} ${int(wd.weight, f)}`);
    }
  }
  for (const [key, list] of throttlesOf(b)) {
    for (const td of list ?? []) {
      const f = `blockIO.throttle ${key}`;
      writeValue(dir, "io.max", `${int(td.major, f)}:${int(td.minor, f)} ${key}=${int(td.rate, f)}`);
    }
  }
}

function checkUnifiedKey(key: string): void {
  if (key.includes("/") || key === "." || key === "..") {
    throw new CgroupError(`unified resource ${JSON.stringify(key)} must be a file name (no slashes)`);
  }
  if (!/^[a-z_0-9]+\.[^.]/.test(key)) {
    throw new CgroupError(`unified resource ${JSON.stringify(key)} must be in the form CONTROLLER.PARAMETER`);
  }
}

/** A multi-line value (io.max for several devices) is written one line at a time, as the kernel wants. */
function setUnified(dir: string, key: string, value: string, controllers: ReadonlySet<string>): void {
  const controller = key.slice(0, key.indexOf("."));
  const lines = value.includes("\n") ? value.split("\n").filter((l) => l !== "") : [value];
  for (const line of lines) {
    try {
      writeValue(dir, key, line);
    } catch (err) {
      const missing = err instanceof CgroupError && ["ENOENT", "EPERM", "EACCES"].includes(err.code ?? "");
      if (missing && controller !== "cgroup" && !controllers.has(controller)) {
        throw new CgroupError(
          `unified resource ${JSON.stringify(key)} can't be set: controller ${JSON.stringify(controller)} not available`,
        );
      }
      throw err;
    }
  }
}

/** The controllers enabled in a cgroup: its cgroup.controllers (missing: none). */
export function enabledControllers(dir: string): Set<string> {
  return new Set((readIfExists(dir, "cgroup.controllers") ?? "").split(/\s+/).filter(Boolean));
}
