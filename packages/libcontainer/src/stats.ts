// A container's statistics in the shape runc prints them (`runc events`, types/events.go), read from its cgroup
// files: v1 (one directory per controller) or v2 (one directory). Counters are uint64 in the kernel, so they stay
// bigint from the file to the JSON text; field order and Go's omitempty rules follow runc's output.
import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { UNIFIED_KEY } from "./cgroups/index.js";

/** A JSON value whose integers may be bigints (printed as plain digits). */
export type Json = null | boolean | string | number | bigint | Json[] | { [key: string]: Json };

export const MAX_U64 = 2n ** 64n - 1n;

/** JSON text as Go's encoding/json writes it for these values: no spaces, bigints as numbers. */
export function toJson(v: Json): string {
  if (v === null) return "null";
  if (typeof v === "bigint") return v.toString();
  if (typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
    .join(",")}}`;
}

function read(dir: string | undefined, file: string): string | undefined {
  if (dir === undefined) return undefined;
  try {
    return readFileSync(posix.join(dir, file), "utf8");
  } catch {
    return undefined;
  }
}

/** An unsigned value; "max" is 2^64-1 as runc reads it. Missing or unparsable: 0. */
export function parseU64(text: string | undefined): bigint {
  const t = text?.trim();
  if (t === undefined || t === "") return 0n;
  if (t === "max") return MAX_U64;
  return /^\d+$/.test(t) ? BigInt(t) : 0n;
}

const u64 = (dir: string | undefined, file: string): bigint => parseU64(read(dir, file));

/** "key value" lines (memory.stat, cpu.stat, memory.events) as a map, in file order. */
export function parseKeyValues(text: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (text ?? "").split("\n")) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (key && value !== undefined && extra === undefined && /^\d+$/.test(value)) out.set(key, BigInt(value));
  }
  return out;
}

/** A cpuset list ("0-3,8") as the numbers it names. */
export function parseCpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? "").trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

// Go's omitempty: zero numbers, empty arrays and empty maps are left out.
function omitEmpty(fields: [string, Json, boolean?][]): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value, always] of fields) {
    const empty =
      value === 0n ||
      value === 0 ||
      value === "" ||
      (Array.isArray(value) && value.length === 0) ||
      (value !== null &&
        typeof value === "object" &&
        !Array.isArray(value) &&
        Object.keys(value).length === 0);
    if (always || !empty) out[key] = value;
  }
  return out;
}

/** USER_HZ: cpuacct.stat counts in clock ticks, which runc turns into nanoseconds. */
const CLOCK_TICKS = 100n;
const NS_PER_S = 1_000_000_000n;

function cpuV1(cpuDir: string | undefined, acctDir: string | undefined): Json {
  const percpu = (read(acctDir, "cpuacct.usage_percpu") ?? "")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(parseU64);
  const kernel: bigint[] = [];
  const user: bigint[] = [];
  // "cpu user system" then one line per cpu.
  for (const line of (read(acctDir, "cpuacct.usage_all") ?? "").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    user.push(parseU64(f[1]));
    kernel.push(parseU64(f[2]));
  }
  const stat = parseKeyValues(read(acctDir, "cpuacct.stat"));
  const ticks = (k: string) => ((stat.get(k) ?? 0n) * NS_PER_S) / CLOCK_TICKS;
  const throttle = parseKeyValues(read(cpuDir, "cpu.stat"));
  return {
    usage: omitEmpty([
      ["total", u64(acctDir, "cpuacct.usage")],
      ["percpu", percpu],
      ["percpu_kernel", kernel],
      ["percpu_user", user],
      ["kernel", ticks("system"), true],
      ["user", ticks("user"), true],
    ]),
    throttling: omitEmpty([
      ["periods", throttle.get("nr_periods") ?? 0n],
      ["throttledPeriods", throttle.get("nr_throttled") ?? 0n],
      ["throttledTime", throttle.get("throttled_time") ?? 0n],
    ]),
  };
}

function cpuV2(dir: string): Json {
  const s = parseKeyValues(read(dir, "cpu.stat"));
  const g = (k: string) => s.get(k) ?? 0n;
  return {
    usage: omitEmpty([
      ["total", g("usage_usec") * 1000n],
      ["kernel", g("system_usec") * 1000n, true],
      ["user", g("user_usec") * 1000n, true],
    ]),
    throttling: omitEmpty([
      ["periods", g("nr_periods")],
      ["throttledPeriods", g("nr_throttled")],
      ["throttledTime", g("throttled_usec") * 1000n],
    ]),
  };
}

function cpuset(dir: string | undefined): Json {
  const n = (file: string) => u64(dir, `cpuset.${file}`);
  const level = read(dir, "cpuset.sched_relax_domain_level")?.trim();
  return omitEmpty([
    ["cpus", parseCpuList(read(dir, "cpuset.cpus"))],
    ["cpu_exclusive", n("cpu_exclusive"), true],
    ["mems", parseCpuList(read(dir, "cpuset.mems"))],
    ["mem_hardwall", n("mem_hardwall"), true],
    ["mem_exclusive", n("mem_exclusive"), true],
    ["memory_migrate", n("memory_migrate"), true],
    ["memory_spread_page", n("memory_spread_page"), true],
    ["memory_spread_slab", n("memory_spread_slab"), true],
    ["memory_pressure", n("memory_pressure"), true],
    ["sched_load_balance", n("sched_load_balance"), true],
    ["sched_relax_domain_level", level && /^-?\d+$/.test(level) ? BigInt(level) : 0n, true],
  ]);
}

const memoryEntry = (limit: bigint, usage: bigint, max: bigint, failcnt: bigint): Json =>
  omitEmpty([
    ["limit", limit, true],
    ["usage", usage],
    ["max", max],
    ["failcnt", failcnt, true],
  ]);

/** Go encodes map keys sorted. */
const sortedRecord = (m: Map<string, bigint>): { [key: string]: Json } =>
  Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function memoryV1(dir: string | undefined): Json {
  const entry = (prefix: string) =>
    memoryEntry(
      u64(dir, `${prefix}limit_in_bytes`),
      u64(dir, `${prefix}usage_in_bytes`),
      u64(dir, `${prefix}max_usage_in_bytes`),
      u64(dir, `${prefix}failcnt`),
    );
  const stat = parseKeyValues(read(dir, "memory.stat"));
  return omitEmpty([
    ["cache", stat.get("cache") ?? 0n],
    ["usage", entry("memory."), true],
    ["swap", entry("memory.memsw."), true],
    ["kernel", entry("memory.kmem."), true],
    ["kernelTCP", entry("memory.kmem.tcp."), true],
    ["raw", sortedRecord(stat)],
  ]);
}

function memoryV2(dir: string): Json {
  const stat = parseKeyValues(read(dir, "memory.stat"));
  const events = parseKeyValues(read(dir, "memory.events"));
  const usage = u64(dir, "memory.current");
  const limit = u64(dir, "memory.max");
  // As runc: v2's swap is swap alone; report memory+swap like v1's memsw.
  let swapUsage = u64(dir, "memory.swap.current");
  let swapLimit = u64(dir, "memory.swap.max");
  if (read(dir, "memory.swap.current") !== undefined) {
    swapUsage += usage;
    if (swapLimit !== MAX_U64 && limit !== MAX_U64) swapLimit += limit;
  }
  return omitEmpty([
    ["cache", stat.get("file") ?? 0n],
    ["usage", memoryEntry(limit, usage, 0n, events.get("max") ?? 0n), true],
    ["swap", memoryEntry(swapLimit, swapUsage, 0n, 0n), true],
    ["kernel", memoryEntry(0n, 0n, 0n, 0n), true],
    ["kernelTCP", memoryEntry(0n, 0n, 0n, 0n), true],
    ["raw", sortedRecord(stat)],
  ]);
}

function countProcs(dir: string): bigint {
  let n = 0n;
  const visit = (d: string) => {
    n += BigInt((read(d, "cgroup.procs") ?? "").split("\n").filter(Boolean).length);
    let subs: string[] = [];
    try {
      subs = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => posix.join(d, e.name));
    } catch {}
    for (const s of subs) visit(s);
  };
  visit(dir);
  return n;
}

function pids(dir: string | undefined, v2: boolean): Json {
  const max = u64(dir, "pids.max");
  const hasCurrent = read(dir, "pids.current") !== undefined;
  const current = hasCurrent || dir === undefined || !v2 ? u64(dir, "pids.current") : countProcs(dir);
  return omitEmpty([
    ["current", current],
    ["limit", max === MAX_U64 ? 0n : max],
  ]);
}

/** "8:0 Read 4096" lines (the "Total N" line has no device and is skipped, as runc does). */
export function parseBlkioEntries(text: string | undefined): Json[] {
  const out: Json[] = [];
  for (const line of (text ?? "").split("\n")) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? "");
    if (!dev || f.length < 2) continue;
    const op = f.length === 3 ? f[1]! : "";
    out.push(
      omitEmpty([
        ["major", BigInt(dev[1]!)],
        ["minor", BigInt(dev[2]!)],
        ["op", op],
        ["value", parseU64(f[f.length - 1])],
      ]),
    );
  }
  return out;
}

function blkioV1(dir: string | undefined): Json {
  // BFQ's files where the kernel has them (CFQ is gone since 5.0), the throttle ones otherwise.
  const bfq = read(dir, "blkio.bfq.io_service_bytes_recursive") !== undefined;
  const prefix = bfq ? "blkio.bfq." : "blkio.throttle.";
  return omitEmpty([
    ["ioServiceBytesRecursive", parseBlkioEntries(read(dir, `${prefix}io_service_bytes_recursive`))],
    ["ioServicedRecursive", parseBlkioEntries(read(dir, `${prefix}io_serviced_recursive`))],
  ]);
}

/** io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") as runc maps it onto blkio's lists. */
export function parseIoStat(text: string | undefined): Json {
  const bytes: Json[] = [];
  const ios: Json[] = [];
  for (const line of (text ?? "").split("\n")) {
    const [devText, ...pairs] = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(devText ?? "");
    if (!dev) continue;
    for (const pair of pairs) {
      const [key, value] = pair.split("=");
      const target = { rbytes: bytes, wbytes: bytes, rios: ios, wios: ios }[key ?? ""];
      if (target === undefined) continue;
      const op = key?.startsWith("r") ? "Read" : "Write";
      target.push(
        omitEmpty([
          ["major", BigInt(dev[1]!)],
          ["minor", BigInt(dev[2]!)],
          ["op", op],
          ["value", parseU64(value)],
        ]),
      );
    }
  }
  return omitEmpty([
    ["ioServiceBytesRecursive", bytes],
    ["ioServicedRecursive", ios],
  ]);
}

/** /sys/kernel/mm/hugepages/hugepages-2048kB → "2MB", runc's names for the hugetlb files. */
export function hugePageSizes(dirs: string[]): string[] {
  const units = ["KB", "MB", "GB", "TB", "PB"];
  const out: string[] = [];
  for (const name of dirs) {
    const m = /^hugepages-(\d+)kB$/.exec(name);
    if (!m) continue;
    let size = Number(m[1]);
    let unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit++;
    }
    out.push(`${size}${units[unit]}`);
  }
  return out;
}

function hugetlb(dir: string | undefined, v2: boolean): Json {
  if (dir === undefined) return {};
  let entries: string[] = [];
  try {
    entries = readdirSync("/sys/kernel/mm/hugepages");
  } catch {}
  const out: { [key: string]: Json } = {};
  for (const size of hugePageSizes(entries).sort()) {
    const p = `hugetlb.${size}.`;
    if (v2) {
      if (read(dir, `${p}current`) === undefined) continue;
      const events = parseKeyValues(read(dir, `${p}events`));
      out[size] = omitEmpty([
        ["usage", u64(dir, `${p}current`)],
        ["failcnt", events.get("max") ?? 0n, true],
      ]);
    } else {
      if (read(dir, `${p}usage_in_bytes`) === undefined) continue;
      out[size] = omitEmpty([
        ["usage", u64(dir, `${p}usage_in_bytes`)],
        ["max", u64(dir, `${p}max_usage_in_bytes`)],
        ["failcnt", u64(dir, `${p}failcnt`), true],
      ]);
    }
  }
  return out;
}

/** The "data" of runc's stats event for a container whose cgroup directories are `paths` (state.json's). */
export function cgroupStats(paths: Record<string, string>): Json {
  const keys = Object.keys(paths);
  const v2dir = keys.length === 1 && keys[0] === UNIFIED_KEY ? paths[UNIFIED_KEY] : undefined;
  if (v2dir !== undefined) {
    return {
      cpu: cpuV2(v2dir),
      cpuset: cpuset(undefined),
      memory: memoryV2(v2dir),
      pids: pids(v2dir, true),
      blkio: parseIoStat(read(v2dir, "io.stat")),
      hugetlb: hugetlb(v2dir, true),
      intel_rdt: {},
      network_interfaces: null,
    };
  }
  return {
    cpu: cpuV1(paths.cpu, paths.cpuacct),
    cpuset: cpuset(paths.cpuset),
    memory: memoryV1(paths.memory),
    pids: pids(paths.pids, false),
    blkio: blkioV1(paths.blkio),
    hugetlb: hugetlb(paths.hugetlb, false),
    intel_rdt: {},
    network_interfaces: null,
  };
}
