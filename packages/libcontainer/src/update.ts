// update: change a live container's cgroup limits (runc's `update`). The input is either runc's flags or a
// LinuxResources JSON document (containerd's Task.Update sends the whole spec section on stdin); as in runc only
// memory limit/reservation/swap, cpu shares/quota/period/realtime/cpus/mems, blkio weight, pids limit and
// unified are taken, everything else (devices above all) is ignored, and 0 means "leave as it is".
import { CgroupError } from "./cgroups/index.js";
import { loadContainer } from "./container.js";
import { ContainerError, notExist } from "./container-error.js";
import { lockContainerSync } from "./lock.js";
import type { Resources } from "./spec.js";
import { containerDir, saveState } from "./state.js";

export interface ResourceUpdate {
  memory: { limit: number; reservation: number; swap: number; kernel: number; kernelTCP: number };
  cpu: {
    shares: number;
    quota: number;
    period: number;
    realtimeRuntime: number;
    realtimePeriod: number;
    cpus: string;
    mems: string;
  };
  blockIO: { weight: number };
  pids: { limit: number };
  unified?: Record<string, string>;
}

export function emptyUpdate(): ResourceUpdate {
  return {
    memory: { limit: 0, reservation: 0, swap: 0, kernel: 0, kernelTCP: 0 },
    cpu: { shares: 0, quota: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0, cpus: "", mems: "" },
    blockIO: { weight: 0 },
    pids: { limit: 0 },
  };
}

type Kind = "int" | "uint" | "string";
const FIELDS: Record<string, Record<string, Kind>> = {
  memory: { limit: "int", reservation: "int", swap: "int", kernel: "int", kernelTCP: "int" },
  cpu: {
    shares: "uint",
    quota: "int",
    period: "uint",
    realtimeRuntime: "int",
    realtimePeriod: "uint",
    cpus: "string",
    mems: "string",
  },
  blockIO: { weight: "uint" },
  pids: { limit: "int" },
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** LinuxResources JSON, decoded onto the zero update as Go decodes onto runc's struct: absent fields stay 0. */
export function updateFromJson(text: string): ResourceUpdate {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ContainerError(`decode resources: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new ContainerError("decode resources: not a JSON object");
  const u = emptyUpdate();
  for (const [section, fields] of Object.entries(FIELDS)) {
    const given = doc[section];
    if (given === undefined || given === null) continue;
    if (!isObject(given)) throw new ContainerError(`decode resources: ${section} is not an object`);
    const target = (u as unknown as Record<string, Record<string, number | string>>)[section]!;
    for (const [field, kind] of Object.entries(fields)) {
      const v = given[field];
      if (v === undefined || v === null) continue;
      const name = `${section}.${field}`;
      if (kind === "string") {
        if (typeof v !== "string") throw new ContainerError(`decode resources: ${name} must be a string`);
      } else if (typeof v !== "number" || !Number.isInteger(v) || (kind === "uint" && v < 0)) {
        throw new ContainerError(
          `decode resources: ${name} must be an ${kind === "uint" ? "unsigned " : ""}integer`,
        );
      }
      target[field] = v;
    }
  }
  const unified = doc.unified;
  if (unified !== undefined && unified !== null) {
    if (!isObject(unified) || Object.values(unified).some((v) => typeof v !== "string"))
      throw new ContainerError("decode resources: unified must map file names to strings");
    u.unified = unified as Record<string, string>;
  }
  return u;
}

/** Go's strconv.ParseInt / ParseUint on a flag value, with their words. */
export function parseIntFlag(flag: string, value: string, unsigned: boolean): number {
  const fn = unsigned ? "strconv.ParseUint" : "strconv.ParseInt";
  const ok = unsigned ? /^\+?\d+$/.test(value) : /^[+-]?\d+$/.test(value);
  if (!ok)
    throw new ContainerError(
      `invalid value for ${flag}: ${fn}: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  const n = BigInt(value);
  const max = unsigned ? 2n ** 64n - 1n : 2n ** 63n - 1n;
  if (n > max || n < -(2n ** 63n))
    throw new ContainerError(
      `invalid value for ${flag}: ${fn}: parsing ${JSON.stringify(value)}: value out of range`,
    );
  return Number(n);
}

/** docker's RAMInBytes: "64m", "1.5GiB", "1024" (binary units); "-1" is handled by the caller. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  const size = m ? Number.parseFloat(m[1]!) : Number.NaN;
  if (!m || Number.isNaN(size)) throw new Error(`invalid size: '${s}'`);
  const exp = " kmgtp".indexOf((m[2] ?? " ").toLowerCase());
  return Math.trunc(size * 1024 ** exp);
}

export interface UpdateFlags {
  blkioWeight?: number;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  pidsLimit?: number;
}

/** runc's flags, with its parsing and messages (flag values override the zero update). */
export function updateFromFlags(f: UpdateFlags): ResourceUpdate {
  const u = emptyUpdate();
  if (f.blkioWeight) u.blockIO.weight = f.blkioWeight;
  if (f.cpusetCpus) u.cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) u.cpu.mems = f.cpusetMems;
  const ints: [keyof UpdateFlags, string, boolean, (n: number) => void][] = [
    ["cpuPeriod", "cpu-period", true, (n) => (u.cpu.period = n)],
    ["cpuRtPeriod", "cpu-rt-period", true, (n) => (u.cpu.realtimePeriod = n)],
    ["cpuShare", "cpu-share", true, (n) => (u.cpu.shares = n)],
    ["cpuQuota", "cpu-quota", false, (n) => (u.cpu.quota = n)],
    ["cpuRtRuntime", "cpu-rt-runtime", false, (n) => (u.cpu.realtimeRuntime = n)],
  ];
  for (const [key, flag, unsigned, assign] of ints) {
    const v = f[key];
    if (typeof v === "string" && v !== "") assign(parseIntFlag(flag, v, unsigned));
  }
  const sizes: [keyof UpdateFlags, string, (n: number) => void][] = [
    ["memory", "memory", (n) => (u.memory.limit = n)],
    ["memorySwap", "memory-swap", (n) => (u.memory.swap = n)],
    ["kernelMemory", "kernel-memory", (n) => (u.memory.kernel = n)],
    ["kernelMemoryTcp", "kernel-memory-tcp", (n) => (u.memory.kernelTCP = n)],
    ["memoryReservation", "memory-reservation", (n) => (u.memory.reservation = n)],
  ];
  for (const [key, flag, assign] of sizes) {
    const v = f[key];
    if (typeof v !== "string" || v === "") continue;
    try {
      assign(v === "-1" ? -1 : ramInBytes(v));
    } catch (e) {
      throw new ContainerError(`invalid value for ${flag}: ${(e as Error).message}`);
    }
  }
  if (f.pidsLimit !== undefined) u.pids.limit = f.pidsLimit;
  return u;
}

/**
 * What to write to the cgroup, given the update and the resources recorded so far. As runc: when only one of cpu
 * quota and period is given, the other keeps its recorded value; 0 everywhere else means unchanged.
 */
export function resourcesToApply(u: ResourceUpdate, recorded: Resources | undefined): Resources {
  const nz = <T extends number>(v: T): T | undefined => (v === 0 ? undefined : v);
  const r: Resources = {};
  const { limit, reservation } = u.memory;
  const swap = u.memory.swap;
  if (limit !== 0 || reservation !== 0 || swap !== 0) {
    r.memory = {
      // cgroup v2 converts swap against the memory limit: give it the recorded one when only swap changes.
      limit: nz(limit) ?? (swap !== 0 ? nz(recorded?.memory?.limit ?? 0) : undefined),
      reservation: nz(reservation),
      swap: nz(swap),
    };
  }
  const c = u.cpu;
  let quota = c.quota;
  let period = c.period;
  if ((quota === 0) !== (period === 0)) {
    quota ||= recorded?.cpu?.quota ?? 0;
    period ||= recorded?.cpu?.period ?? 0;
  }
  const cpu = {
    shares: nz(c.shares),
    quota: nz(quota),
    period: nz(period),
    realtimeRuntime: nz(c.realtimeRuntime),
    realtimePeriod: nz(c.realtimePeriod),
    cpus: c.cpus || undefined,
    mems: c.mems || undefined,
  };
  if (Object.values(cpu).some((v) => v !== undefined)) r.cpu = cpu;
  if (u.blockIO.weight !== 0) r.blockIO = { weight: u.blockIO.weight };
  if (u.pids.limit !== 0) r.pids = { limit: u.pids.limit };
  if (u.unified && Object.keys(u.unified).length > 0) r.unified = u.unified;
  return dropUndefined(r);
}

/** The recorded resources with what was applied laid over them. */
export function mergeResources(recorded: Resources | undefined, applied: Resources): Resources {
  const out: Resources = { ...recorded };
  if (applied.memory) out.memory = { ...recorded?.memory, ...applied.memory };
  if (applied.cpu) out.cpu = { ...recorded?.cpu, ...applied.cpu };
  if (applied.blockIO) out.blockIO = { ...recorded?.blockIO, ...applied.blockIO };
  if (applied.pids) out.pids = applied.pids;
  if (applied.unified) out.unified = { ...recorded?.unified, ...applied.unified };
  return out;
}

function dropUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Applies the update to the live cgroup and records the result in state.json. Returns warnings to log (kernel
 * memory, which runc also ignores).
 */
export function updateContainer(root: string, id: string, u: ResourceUpdate): string[] {
  const warnings: string[] = [];
  if (u.memory.kernel !== 0 || u.memory.kernelTCP !== 0)
    warnings.push("Kernel memory settings are ignored and will be removed");
  // Exclusive: two updates at once would each merge into the record the other did not see.
  const lock = lockContainerSync(containerDir(root, id), "exclusive");
  if (!lock) throw notExist();
  try {
    updateLocked(root, id, u);
  } finally {
    lock.release();
  }
  return warnings;
}

function updateLocked(root: string, id: string, u: ResourceUpdate): void {
  const c = loadContainer(root, id);
  if (c.status === "stopped") throw new ContainerError("container not running");
  const apply = resourcesToApply(u, c.state.resources);
  try {
    c.cgroups.set(apply);
  } catch (e) {
    if (e instanceof CgroupError) throw new ContainerError(e.message, { cause: e });
    throw e;
  }
  c.state.resources = mergeResources(c.state.resources, apply);
  saveState(c.dir, c.state);
}
