import { describe, expect, it } from "vitest";
import {
  mergeResources,
  parseIntFlag,
  ramInBytes,
  resourcesToApply,
  updateFromFlags,
  updateFromJson,
} from "./update.js";

describe("updateFromJson", () => {
  it("takes runc's fields from a LinuxResources document and ignores the rest", () => {
    const u = updateFromJson(
      JSON.stringify({
        memory: { limit: 1024, swap: 2048, swappiness: 10 },
        cpu: { quota: 5000, cpus: "0" },
        pids: { limit: 9 },
        devices: [{ allow: true, access: "rwm" }],
        blockIO: { weight: 100 },
        unified: { "pids.max": "7" },
      }),
    );
    expect(u.memory).toEqual({ limit: 1024, reservation: 0, swap: 2048, kernel: 0, kernelTCP: 0 });
    expect(u.cpu).toMatchObject({ quota: 5000, period: 0, cpus: "0", mems: "" });
    expect(u.pids.limit).toBe(9);
    expect(u.blockIO.weight).toBe(100);
    expect(u.unified).toEqual({ "pids.max": "7" });
    expect(u).not.toHaveProperty("devices");
  });

  it("refuses what Go's decoder refuses", () => {
    expect(() => updateFromJson("{bad")).toThrow(/^decode resources: /);
    expect(() => updateFromJson("[]")).toThrow(/not a JSON object/);
    expect(() => updateFromJson('{"memory":{"limit":"1g"}}')).toThrow(/memory.limit must be an integer/);
    expect(() => updateFromJson('{"cpu":{"shares":-1}}')).toThrow(/cpu.shares must be an unsigned integer/);
    expect(() => updateFromJson('{"memory":{"limit":1.5}}')).toThrow(/memory.limit/);
  });

  it("null sections and fields stay zero", () => {
    expect(updateFromJson('{"memory":null,"pids":{"limit":null}}').pids.limit).toBe(0);
  });
});

describe("updateFromFlags", () => {
  it("parses sizes with docker's binary units and -1", () => {
    expect(ramInBytes("1024")).toBe(1024);
    expect(ramInBytes("32m")).toBe(32 * 1024 * 1024);
    expect(ramInBytes("1.5GiB")).toBe(1.5 * 1024 ** 3);
    expect(ramInBytes("2 kb")).toBe(2048);
    expect(() => ramInBytes("lots")).toThrow("invalid size: 'lots'");
    const u = updateFromFlags({ memory: "16m", memorySwap: "-1", memoryReservation: "8m", pidsLimit: 5 });
    expect(u.memory).toMatchObject({ limit: 16 * 1024 * 1024, swap: -1, reservation: 8 * 1024 * 1024 });
    expect(u.pids.limit).toBe(5);
  });

  it("parses cpu numbers as runc does, with strconv's words", () => {
    const u = updateFromFlags({ cpuQuota: "-1", cpuPeriod: "100000", cpuShare: "512", cpusetCpus: "0-1" });
    expect(u.cpu).toMatchObject({ quota: -1, period: 100000, shares: 512, cpus: "0-1" });
    expect(() => updateFromFlags({ cpuQuota: "xx" })).toThrow(
      'invalid value for cpu-quota: strconv.ParseInt: parsing "xx": invalid syntax',
    );
    expect(() => updateFromFlags({ cpuPeriod: "-5" })).toThrow(/cpu-period: strconv.ParseUint/);
    expect(() => updateFromFlags({ memory: "xx" })).toThrow("invalid value for memory: invalid size: 'xx'");
    expect(() => parseIntFlag("cpu-quota", "99999999999999999999", false)).toThrow(/value out of range/);
  });
});

describe("resourcesToApply", () => {
  it("0 is unchanged; a lone quota or period keeps the recorded other half", () => {
    const base = updateFromFlags({ cpuQuota: "20000" });
    expect(resourcesToApply(base, { cpu: { quota: 10000, period: 50000 } })).toEqual({
      cpu: { quota: 20000, period: 50000 },
    });
    expect(resourcesToApply(updateFromFlags({}), undefined)).toEqual({});
    expect(resourcesToApply(updateFromFlags({ pidsLimit: -1 }), undefined)).toEqual({ pids: { limit: -1 } });
  });

  it("a swap change alone carries the recorded memory limit (v2 converts swap against it)", () => {
    const r = resourcesToApply(updateFromFlags({ memorySwap: "64m" }), {
      memory: { limit: 32 * 1024 * 1024 },
    });
    expect(r.memory).toEqual({ limit: 32 * 1024 * 1024, swap: 64 * 1024 * 1024 });
  });

  it("the record keeps what was not changed", () => {
    expect(
      mergeResources(
        { memory: { limit: 1, swap: 2 }, pids: { limit: 3 } },
        { memory: { limit: 5 }, cpu: { shares: 9 } },
      ),
    ).toEqual({ memory: { limit: 5, swap: 2 }, pids: { limit: 3 }, cpu: { shares: 9 } });
  });
});
