import { describe, expect, it } from "vitest";
import { filterPsOutput, pidsJson } from "./ps.js";

describe("ps output", () => {
  const PS = [
    "UID          PID    PPID  C STIME TTY          TIME CMD",
    "root           1       0  0 09:00 ?        00:00:01 /sbin/init",
    "root         200       1  0 09:01 ?        00:00:00 sleep 1000",
    "root         201     200  0 09:01 ?        00:00:00 sh -c x",
    "",
  ].join("\n");

  it("keeps the header and the lines of the container's pids", () => {
    expect(filterPsOutput(PS, [200, 201])).toBe(
      `${PS.split("\n")[0]}\n${PS.split("\n")[2]}\n${PS.split("\n")[3]}\n`,
    );
    expect(filterPsOutput(PS, [])).toBe(`${PS.split("\n")[0]}\n`);
  });

  it("finds the PID column anywhere and refuses output without one", () => {
    expect(filterPsOutput("COMMAND PID\nsleep 200\ninit 1\n", [200])).toBe("COMMAND PID\nsleep 200\n");
    expect(() => filterPsOutput("COMMAND\nsleep\n", [1])).toThrow("couldn't find PID field in ps output");
    expect(() => filterPsOutput("PID\nx\n", [1])).toThrow(/unable to parse pid/);
  });

  it("json is runc's: null for none", () => {
    expect(pidsJson([])).toBe("null\n");
    expect(pidsJson([3, 1])).toBe("[3,1]\n");
  });
});
