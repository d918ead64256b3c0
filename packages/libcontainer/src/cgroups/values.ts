// Validation and formatting of linux.resources values shared by the v1 and v2 writers. As in runc, 0 (or an absent
// field) means "leave unchanged" for most numbers.

import type { DeviceCgroup, HugepageLimit, Resources } from "../spec.js";
import { CgroupError } from "./errors.js";

/** An integer as the kernel expects it: no exponent, no fraction. */
export function int(value: number, field: string): string {
  if (!Number.isInteger(value)) throw new CgroupError(`${field}: ${value} is not an integer`);
  return BigInt(value).toString();
}

/** A number that counts as set: present and not 0. */
export const isSet = (v: number | undefined): v is number => v !== undefined && v !== 0;

// The kernel names hugetlb files after the page size ("hugetlb.2MB.limit_in_bytes"); the value becomes part of a
// file name, so nothing else may pass.
export function hugepageSize(limit: HugepageLimit): string {
  if (!/^[0-9]+[KMGT]?B$/.test(limit.pageSize)) {
    throw new CgroupError(`hugepageLimits: invalid page size ${JSON.stringify(limit.pageSize)}`);
  }
  return limit.pageSize;
}

/** One rdma.max line per device: "mlx4_0 hca_handle=2 hca_object=2000". */
export function rdmaLines(rdma: NonNullable<Resources["rdma"]>): string[] {
  const lines: string[] = [];
  for (const [device, limit] of Object.entries(rdma)) {
    if (!/^[^\s/]+$/.test(device))
      throw new CgroupError(`rdma: invalid device name ${JSON.stringify(device)}`);
    const parts: string[] = [];
    if (limit.hcaHandles !== undefined) parts.push(`hca_handle=${int(limit.hcaHandles, "rdma.hcaHandles")}`);
    if (limit.hcaObjects !== undefined) parts.push(`hca_object=${int(limit.hcaObjects, "rdma.hcaObjects")}`);
    if (parts.length > 0) lines.push(`${device} ${parts.join(" ")}`);
  }
  return lines;
}

/** A devices.allow / devices.deny line: "c 1:3 rwm", "a *:* rwm"; absent major/minor are wildcards. */
export function deviceRule(rule: DeviceCgroup, index: number): string {
  const type = rule.type ?? "a";
  const access = rule.access ?? "rwm";
  const field = `devices[${index}]`;
  if (!["a", "b", "c"].includes(type))
    throw new CgroupError(`${field}: invalid device type ${JSON.stringify(type)}`);
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
    throw new CgroupError(`${field}: invalid access ${JSON.stringify(access)}`);
  }
  const num = (n: number | undefined) => (n === undefined || n === -1 ? "*" : int(n, field));
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}

/** runc's ConvertCPUSharesToCgroupV2Value: maps [2, 262144] onto [1, 10000] with 1024 → 100 (the defaults). */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return Math.ceil(10 ** exponent);
}

/** runc's ConvertBlkIOToIOWeightValue: blkio [10, 1000] onto io.weight [1, 10000]. */
export function blkioWeightToIOWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * runc's ConvertMemorySwapToCgroupV2Value: the spec's swap is memory+swap (the v1 memsw meaning); v2's
 * memory.swap.max is swap alone. -1 means unlimited; 0 leaves it unset.
 */
export function swapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === -1) return swap;
  if (limit === 0) throw new CgroupError("memory.swap: unable to set swap limit without memory limit");
  if (limit < 0) throw new CgroupError(`memory.limit: invalid memory value: ${limit}`);
  if (swap < limit) throw new CgroupError("memory.swap: memory+swap limit should be >= memory limit");
  return swap - limit;
}
