import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultSpec } from "./default-spec.js";
import { execProcessFromConfig, mergeEnv, readProcessFile } from "./exec-process.js";
import type { Process } from "./spec.js";

const base = (): Process => {
  const p = structuredClone(defaultSpec().process!);
  p.terminal = true;
  p.consoleSize = { height: 1, width: 2 };
  p.env = ["PATH=/bin", "A=1"];
  return p;
};

describe("execProcessFromConfig", () => {
  it("keeps the config's process and replaces args; terminal only with -t; no config console size", () => {
    const cfg = base();
    const p = execProcessFromConfig(cfg, { args: ["ls", "-l"] });
    expect(p.args).toEqual(["ls", "-l"]);
    expect(p.terminal).toBe(false);
    expect(p.consoleSize).toBeUndefined();
    expect(p.cwd).toBe(cfg.cwd);
    expect(p.capabilities).toEqual(cfg.capabilities);
    expect(p.rlimits).toEqual(cfg.rlimits);
    expect(execProcessFromConfig(cfg, { args: ["sh"], tty: true }).terminal).toBe(true);
    expect(cfg.args).toEqual(defaultSpec().process!.args); // the config is not changed
  });

  it("applies -e, --cwd, -u, -g, --no-new-privs, --apparmor, --process-label", () => {
    const p = execProcessFromConfig(base(), {
      args: ["sh"],
      env: ["A=2", "B=3"],
      cwd: "/tmp",
      user: "1000:1001",
      additionalGids: [7, 8],
      noNewPrivs: false,
    });
    expect(p.env).toEqual(["PATH=/bin", "A=2", "B=3"]);
    expect(p.cwd).toBe("/tmp");
    expect(p.user).toMatchObject({ uid: 1000, gid: 1001, additionalGids: [7, 8] });
    expect(p.noNewPrivileges).toBe(false);
    const lsm = execProcessFromConfig(base(), { args: ["sh"], apparmor: "prof", processLabel: "lbl" });
    expect(lsm).toMatchObject({ apparmorProfile: "prof", selinuxLabel: "lbl" });
    // A uid alone keeps the config's gid.
    expect(execProcessFromConfig(base(), { args: ["sh"], user: "5" }).user).toMatchObject({ uid: 5, gid: 0 });
  });

  it("adds --cap to bounding, effective and permitted, and to ambient only with an inheritable set", () => {
    const cfg = base();
    cfg.capabilities = { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] };
    const p = execProcessFromConfig(cfg, { args: ["sh"], caps: ["CAP_SYS_ADMIN"] });
    expect(p.capabilities).toEqual({
      bounding: ["CAP_KILL", "CAP_SYS_ADMIN"],
      effective: ["CAP_KILL", "CAP_SYS_ADMIN"],
      permitted: ["CAP_KILL", "CAP_SYS_ADMIN"],
    });
    cfg.capabilities.inheritable = [];
    expect(execProcessFromConfig(cfg, { args: ["sh"], caps: ["CAP_NET_RAW"] }).capabilities?.ambient).toEqual(
      ["CAP_NET_RAW"],
    );
  });

  it("refuses what runc refuses, in its words", () => {
    const b = base();
    expect(() => execProcessFromConfig(b, { args: [] })).toThrow("process args cannot be empty");
    expect(() => execProcessFromConfig(b, { args: ["sh"], user: "abc" })).toThrow(
      'parsing abc as int for uid failed: strconv.Atoi: parsing "abc": invalid syntax',
    );
    expect(() => execProcessFromConfig(b, { args: ["sh"], user: "1:x" })).toThrow(
      "parsing x as int for gid failed",
    );
    expect(() => execProcessFromConfig(b, { args: ["sh"], additionalGids: [-1] })).toThrow(
      "additional-gids must be a positive number -1",
    );
    expect(() => execProcessFromConfig(b, { args: ["sh"], caps: ["CAP_FOO"] })).toThrow(
      'unknown capability "CAP_FOO"',
    );
    expect(() => execProcessFromConfig(b, { args: ["sh"], cwd: "relative" })).toThrow(
      "exec process: cwd: must be an absolute path",
    );
    expect(() => execProcessFromConfig(b, { args: ["sh"], env: ["NOEQUALS"] })).toThrow("is not KEY=value");
    expect(() => execProcessFromConfig(undefined, { args: ["sh"] })).toThrow("process is required");
  });
});

describe("mergeEnv", () => {
  it("keeps the first place of a name and its last value", () => {
    expect(mergeEnv(["A=1", "B=2", "A=3"], ["B=4", "C=5"])).toEqual(["A=3", "B=4", "C=5"]);
    expect(mergeEnv([], [])).toEqual([]);
  });
});

describe("readProcessFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsrun-exec-process-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it("reads a whole process", () => {
    const p = readProcessFile(
      file("ok.json", JSON.stringify({ user: { uid: 1, gid: 2 }, args: ["sh"], cwd: "/", terminal: true })),
    );
    expect(p).toEqual({ user: { uid: 1, gid: 2 }, args: ["sh"], cwd: "/", terminal: true });
  });

  it("names the file and the field when it is wrong", () => {
    const missing = join(dir, "none.json");
    expect(() => readProcessFile(missing)).toThrow(`open ${missing}: no such file or directory`);
    const bad = file("bad.json", "{");
    expect(() => readProcessFile(bad)).toThrow(bad);
    const noArgs = file("noargs.json", JSON.stringify({ user: { uid: 0, gid: 0 }, cwd: "/" }));
    expect(() => readProcessFile(noArgs)).toThrow(`${noArgs}: args: must be a non-empty array of strings`);
    const caps = file(
      "caps.json",
      JSON.stringify({
        user: { uid: 0, gid: 0 },
        args: ["sh"],
        cwd: "/",
        capabilities: { bounding: ["CAP_X"] },
      }),
    );
    expect(() => readProcessFile(caps)).toThrow('unknown capability "CAP_X"');
  });
});
