import { describe, expect, it } from "vitest";
import {
  isBindMount,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  parseMountOptions,
} from "./mount-options.js";

describe("parseMountOptions", () => {
  it("turns flag words into MS_* bits and keeps the rest as data, in order", () => {
    expect(parseMountOptions(["nosuid", "strictatime", "mode=755", "size=65536k"])).toEqual({
      flags: MS_NOSUID | MS_STRICTATIME,
      propagation: [],
      data: "mode=755,size=65536k",
      copyUp: false,
    });
    expect(parseMountOptions(["nosuid", "noexec", "nodev", "relatime", "ro"]).flags).toBe(
      MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY,
    );
    expect(parseMountOptions(undefined)).toEqual({ flags: 0, propagation: [], data: "", copyUp: false });
  });

  it("lets later words clear earlier ones, as runc", () => {
    expect(parseMountOptions(["ro", "rw"]).flags).toBe(0);
    expect(parseMountOptions(["nosuid", "suid", "nodev"]).flags).toBe(MS_NODEV);
    expect(parseMountOptions(["rbind"]).flags).toBe(MS_BIND | MS_REC);
  });

  it("collects propagation words as separate changes", () => {
    expect(parseMountOptions(["rbind", "rslave", "private", "shared"]).propagation).toEqual([
      MS_SLAVE | MS_REC,
      MS_PRIVATE,
      MS_SHARED,
    ]);
  });

  it("takes tmpcopyup as runc's copy-up extension, not as data", () => {
    expect(parseMountOptions(["nosuid", "tmpcopyup", "size=1m"])).toEqual({
      flags: MS_NOSUID,
      propagation: [],
      data: "size=1m",
      copyUp: true,
    });
  });

  it("flags features tsrun lacks", () => {
    expect(parseMountOptions(["rro"]).unsupported).toBe("rro");
    expect(parseMountOptions(["idmap"]).unsupported).toBe("idmap");
  });

  it("recognises bind mounts by type or option", () => {
    expect(isBindMount({ type: "bind" })).toBe(true);
    expect(isBindMount({ type: "none", options: ["rbind", "ro"] })).toBe(true);
    expect(isBindMount({ type: "tmpfs", options: ["ro"] })).toBe(false);
  });
});
