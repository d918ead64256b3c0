import { describe, expect, it } from "vitest";
import { parseOptions } from "./args.js";

describe("recvtty arguments", () => {
  it("defaults to mode single with stdin", () => {
    expect(parseOptions(["/run/s.sock"])).toEqual({
      mode: "single",
      pidFile: undefined,
      noStdin: false,
      socketPath: "/run/s.sock",
    });
  });

  it("takes runc recvtty's flags", () => {
    expect(parseOptions(["--mode", "null", "--pid-file", "/tmp/p", "--no-stdin", "s"])).toEqual({
      mode: "null",
      pidFile: "/tmp/p",
      noStdin: true,
      socketPath: "s",
    });
    expect(parseOptions(["-m", "null", "s"])).toMatchObject({ mode: "null" });
    expect(parseOptions(["--mode=single", "s"])).toMatchObject({ mode: "single" });
    expect(parseOptions(["--help"])).toBe("help");
  });

  it("refuses bad command lines with lower-case messages", () => {
    expect(() => parseOptions([])).toThrow("need exactly one socket path");
    expect(() => parseOptions(["a", "b"])).toThrow("need exactly one socket path");
    expect(() => parseOptions(["--mode", "double", "s"])).toThrow('invalid mode "double"');
    expect(() => parseOptions(["--bogus", "s"])).toThrow(/^unknown option '--bogus'/);
    expect(() => parseOptions(["--pid-file"])).toThrow(/^option '--pid-file <value>' argument missing/);
  });
});
