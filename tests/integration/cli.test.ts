// The commands around the lifecycle: spec (a default that runs, and no overwrite), features, --version, and the
// answer to an unknown command.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Spec } from "../../packages/libcontainer/src/index.js";
import { type Bundle, RUNTIME, rt, rtq, useBundles } from "./helpers.js";

const { bundle } = useBundles();
const TSRUN = fileURLToPath(new URL("../../packages/cli/bin/tsrun", import.meta.url));
const RUNC = "/usr/sbin/runc";

/** Writes config.json with `generator spec` in the bundle, then makes it non-interactive with a known program. */
async function specFrom(b: Bundle, generator: string): Promise<Spec> {
  rmSync(join(b.dir, "config.json"));
  const r = await rtq(b, ["spec"], { global: [], runtime: generator });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.code).toBe(0);
  const spec = JSON.parse(readFileSync(join(b.dir, "config.json"), "utf8")) as Spec;
  spec.process!.terminal = false;
  spec.process!.args = ["sh", "-c", "echo ok; id -u; hostname"];
  // runc's default /<id> cgroup, kept apart from other runs by the id.
  writeFileSync(join(b.dir, "config.json"), JSON.stringify(spec));
  return spec;
}

describe("spec", () => {
  for (const [name, generator] of [
    ["the runtime's own", RUNTIME],
    ["tsrun's", TSRUN],
    ["runc's", RUNC],
  ] as const) {
    it.skipIf(!existsSync(generator))(`writes ${name} default config.json, which run accepts`, async () => {
      const b = bundle();
      const spec = await specFrom(b, generator);
      expect(spec.root).toEqual({ path: "rootfs", readonly: true });
      expect(spec.process!.cwd).toBe("/");
      expect(spec.ociVersion).toMatch(/^1\.\d+\.\d+/);
      const r = await rt(b, ["run", `spec-${process.pid}`]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("ok\n0\nrunc\n");
      expect(r.code).toBe(0);
    });
  }

  it("refuses to overwrite config.json", async () => {
    const b = bundle();
    const before = readFileSync(join(b.dir, "config.json"), "utf8");
    const r = await rtq(b, ["spec"], { global: [] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("config.json exists");
    expect(readFileSync(join(b.dir, "config.json"), "utf8")).toBe(before);
  });

  it("writes into --bundle", async () => {
    const b = bundle();
    rmSync(join(b.dir, "config.json"));
    const r = await rtq(b, ["spec", "--bundle", b.dir], { global: [], cwd: "/" });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(b.dir, "config.json"), "utf8")).process.args).toEqual(["sh"]);
  });
});

describe("features", () => {
  it("prints JSON with the OCI version range, hooks and namespaces", async () => {
    const b = bundle();
    const r = await rtq(b, ["features"], { global: [] });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(f.ociVersionMin).toMatch(/^1\.0\.\d+$/);
    expect(f.ociVersionMax).toMatch(/^1\.\d+\.\d+/);
    expect(f.hooks).toEqual(
      expect.arrayContaining([
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
      ]),
    );
    expect(f.linux.namespaces).toEqual(
      expect.arrayContaining(["pid", "network", "ipc", "uts", "mount", "user"]),
    );
    expect(f.linux.capabilities).toEqual(expect.arrayContaining(["CAP_SYS_ADMIN", "CAP_KILL"]));
  });
});

describe("global", () => {
  it("prints a version", async () => {
    const b = bundle();
    const r = await rtq(b, ["--version"], { global: [] });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S+ version \S+\n/);
    expect(r.stdout).toMatch(/\nspec: 1\.\d+\.\d+/);
  });

  it("refuses an unknown command", async () => {
    const b = bundle();
    const r = await rtq(b, ["nope"], { global: [] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("No help topic for 'nope'");
  });

  it("lists nothing in an empty root and refuses state of an unknown id", async () => {
    const b = bundle();
    const r = await rtq(b, ["list", "-q"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const s = await rtq(b, ["state", "nope"]);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toContain("does not exist");
  });
});
