import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventLine, oomCount } from "./events.js";
import {
  cgroupStats,
  hugePageSizes,
  parseBlkioEntries,
  parseCpuList,
  parseIoStat,
  parseKeyValues,
  parseU64,
  toJson,
} from "./stats.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "tsrun-stats-"));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("parsers", () => {
  it("read kernel numbers as uint64", () => {
    expect(parseU64("9223372036854771712\n")).toBe(9223372036854771712n);
    expect(parseU64("max")).toBe(2n ** 64n - 1n);
    expect(parseU64(undefined)).toBe(0n);
    expect(parseU64("junk")).toBe(0n);
    expect(parseKeyValues("cache 4096\nrss 0\nbad\n")).toEqual(
      new Map([
        ["cache", 4096n],
        ["rss", 0n],
      ]),
    );
    expect(parseCpuList("0-2,5\n")).toEqual([0, 1, 2, 5]);
    expect(parseCpuList("")).toEqual([]);
  });

  it("blkio lines skip the Total line and keep the op; zeros are left out as Go's omitempty does", () => {
    expect(toJson(parseBlkioEntries("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n"))).toBe(
      '[{"major":8,"op":"Read","value":4096},{"major":8,"op":"Write"}]',
    );
  });

  it("io.stat maps onto blkio's lists", () => {
    expect(toJson(parseIoStat("8:16 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"))).toBe(
      '{"ioServiceBytesRecursive":[{"major":8,"minor":16,"op":"Read","value":10},{"major":8,"minor":16,"op":"Write","value":20}],' +
        '"ioServicedRecursive":[{"major":8,"minor":16,"op":"Read","value":1},{"major":8,"minor":16,"op":"Write","value":2}]}',
    );
  });

  it("hugepage directory names become runc's sizes", () => {
    expect(hugePageSizes(["hugepages-2048kB", "hugepages-1048576kB", "other"])).toEqual(["2MB", "1GB"]);
    expect(hugePageSizes(["hugepages-64kB"])).toEqual(["64KB"]);
  });

  it("toJson prints bigints beyond 2^53 exactly, with Go's compact form", () => {
    expect(toJson({ a: 18446744073709551615n, b: [1, "x"], c: null, d: {} })).toBe(
      '{"a":18446744073709551615,"b":[1,"x"],"c":null,"d":{}}',
    );
  });
});

describe("cgroupStats", () => {
  it("v1: runc's field names, order and omitempty", () => {
    const root = tree({
      "cpuacct/c/cpuacct.usage": "12429395\n",
      "cpuacct/c/cpuacct.usage_percpu": "10111057 2318338 \n",
      "cpuacct/c/cpuacct.usage_all": "cpu user system\n0 4000000 4000000\n1 0 0\n",
      "cpuacct/c/cpuacct.stat": "user 3\nsystem 1\n",
      "cpu/c/cpu.stat": "nr_periods 10\nnr_throttled 4\nthrottled_time 12345\n",
      "cpuset/c/cpuset.cpus": "0-1\n",
      "cpuset/c/cpuset.mems": "0\n",
      "cpuset/c/cpuset.sched_load_balance": "1\n",
      "cpuset/c/cpuset.sched_relax_domain_level": "-1\n",
      "memory/c/memory.limit_in_bytes": "67108864\n",
      "memory/c/memory.usage_in_bytes": "729088\n",
      "memory/c/memory.max_usage_in_bytes": "2691072\n",
      "memory/c/memory.failcnt": "0\n",
      "memory/c/memory.memsw.limit_in_bytes": "9223372036854771712\n",
      "memory/c/memory.kmem.tcp.limit_in_bytes": "9223372036854771712\n",
      "memory/c/memory.stat": "cache 0\nrss 225280\nactive_anon 16384\n",
      "pids/c/pids.current": "4\n",
      "pids/c/pids.max": "max\n",
    });
    const paths = Object.fromEntries(
      ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio"].map((c) => [c, join(root, c, "c")]),
    );
    expect(toJson(cgroupStats(paths))).toBe(
      '{"cpu":{"usage":{"total":12429395,"percpu":[10111057,2318338],"percpu_kernel":[4000000,0],"percpu_user":[4000000,0],' +
        '"kernel":10000000,"user":30000000},"throttling":{"periods":10,"throttledPeriods":4,"throttledTime":12345}},' +
        '"cpuset":{"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,' +
        '"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":1,"sched_relax_domain_level":-1},' +
        '"memory":{"usage":{"limit":67108864,"usage":729088,"max":2691072,"failcnt":0},' +
        '"swap":{"limit":9223372036854771712,"failcnt":0},"kernel":{"limit":0,"failcnt":0},' +
        '"kernelTCP":{"limit":9223372036854771712,"failcnt":0},"raw":{"active_anon":16384,"cache":0,"rss":225280}},' +
        '"pids":{"current":4},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}',
    );
  });

  it("v2: cpu.stat in microseconds, memory+swap as v1 reports it, pids counted when pids.current is missing", () => {
    const root = tree({
      "c/cpu.stat":
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 2\nthrottled_usec 7\n",
      "c/memory.current": "1000\n",
      "c/memory.max": "4096\n",
      "c/memory.swap.current": "10\n",
      "c/memory.swap.max": "max\n",
      "c/memory.events": "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n",
      "c/memory.stat": "file 300\nanon 700\n",
      "c/cgroup.procs": "1\n2\n",
      "c/sub/cgroup.procs": "3\n",
    });
    const data = JSON.parse(toJson(cgroupStats({ "": join(root, "c") })));
    expect(data.cpu).toEqual({
      usage: { total: 1500000, kernel: 500000, user: 1000000 },
      throttling: { periods: 3, throttledPeriods: 2, throttledTime: 7000 },
    });
    expect(data.memory.cache).toBe(300);
    expect(data.memory.usage).toEqual({ limit: 4096, usage: 1000, failcnt: 5 });
    expect(data.memory.swap.usage).toBe(1010);
    expect(data.memory.raw).toEqual({ anon: 700, file: 300 });
    expect(data.pids).toEqual({ current: 3 });
  });
});

describe("events", () => {
  it("lines are one compact JSON object, data left out when absent", () => {
    expect(eventLine("oom", "c1")).toBe('{"type":"oom","id":"c1"}\n');
    expect(eventLine("stats", "c1", { pids: { current: 1n } })).toBe(
      '{"type":"stats","id":"c1","data":{"pids":{"current":1}}}\n',
    );
  });

  it("oom counters: v1 memory.oom_control's oom_kill, v2 memory.events' oom_kill", () => {
    const root = tree({
      "v1/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
      "old/memory.oom_control": "oom_kill_disable 0\nunder_oom 1\n",
      "v2/memory.events": "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n",
    });
    expect(oomCount(join(root, "v1"), false)).toBe(2n);
    expect(oomCount(join(root, "old"), false)).toBe(1n);
    expect(oomCount(join(root, "v2"), true)).toBe(3n);
    expect(oomCount(join(root, "missing"), true)).toBeUndefined();
  });
});
