import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultSpec, OCI_VERSION } from "./default-spec.js";
import { validateSpec } from "./validate.js";

let runc = "";
try {
  runc = execFileSync("sh", ["-c", "command -v runc"], { encoding: "utf8" }).trim();
} catch {}

function runcSpec(...flags: string[]): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "tsrun-runc-spec-"));
  try {
    execFileSync(runc, ["spec", "--bundle", dir, ...flags]);
    return JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("defaultSpec", () => {
  it.skipIf(!runc)("has the content of `runc spec`, field by field", () => {
    const theirs = runcSpec();
    const ours = defaultSpec() as unknown as Record<string, unknown>;
    expect(ours.ociVersion).toBe(OCI_VERSION);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    for (const key of Object.keys(theirs)) {
      if (key !== "ociVersion") expect({ [key]: ours[key] }).toEqual({ [key]: theirs[key] });
    }
  });

  it.skipIf(!runc)("has the content of `runc spec --rootless`", () => {
    const theirs = runcSpec("--rootless");
    const ours = defaultSpec({ rootless: true }) as unknown as Record<string, unknown>;
    for (const key of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
      if (key !== "ociVersion") expect({ [key]: ours[key] }).toEqual({ [key]: theirs[key] });
    }
  });

  it("takes args and terminal, and validates", () => {
    const s = defaultSpec({ terminal: false, args: ["/bin/echo", "hi"] });
    expect(s.process?.terminal).toBe(false);
    expect(s.process?.args).toEqual(["/bin/echo", "hi"]);
    expect(() => validateSpec(s)).not.toThrow();
    expect(defaultSpec({ rootless: true, uid: 1000, gid: 1001 }).linux?.gidMappings).toEqual([
      { containerID: 0, hostID: 1001, size: 1 },
    ]);
  });

  it("returns a fresh object each time", () => {
    const a = defaultSpec();
    a.process?.capabilities?.bounding?.push("CAP_SYS_ADMIN");
    expect(defaultSpec().process?.capabilities?.bounding).toHaveLength(3);
  });
});
