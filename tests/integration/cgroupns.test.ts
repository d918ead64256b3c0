// A new cgroup namespace is made after the init joined linux.cgroupsPath, as runc does: the container sees its
// own cgroup as "/" in /proc/self/cgroup, and a cgroup filesystem mounted inside is rooted there.
import { describe, expect, it } from "vitest";
import { rt, useBundles } from "./helpers.js";

const { bundle } = useBundles();

describe("cgroup namespace", () => {
  it("roots the namespace at the container's cgroup", async () => {
    const b = bundle((s) => {
      s.linux!.namespaces!.push({ type: "cgroup" });
      s.process!.args = [
        "sh",
        "-c",
        "cat /proc/self/cgroup; grep -qx 1 /sys/fs/cgroup/memory/cgroup.procs && echo memory-root-is-ours",
      ];
    });
    expect(b.spec.linux?.cgroupsPath).toMatch(/^\/tsrun-it-/);
    const r = await rt(b, ["run", "cgns"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const cgroups = lines.filter((l) => /^\d+:/.test(l));
    expect(cgroups).toContain("0::/");
    expect(cgroups.find((l) => /^\d+:memory:/.test(l))).toMatch(/^\d+:memory:\/$/);
    // Every hierarchy, v1 controllers and the unified one: "/" and nothing like "/../<caller's cgroup>".
    expect(cgroups.filter((l) => !l.endsWith(":/"))).toEqual([]);
    expect(lines.at(-1)).toBe("memory-root-is-ours");
  });

  it("without a cgroup namespace shows the host's path of linux.cgroupsPath", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "grep :memory: /proc/self/cgroup"];
    });
    const r = await rt(b, ["run", "nocgns"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`^\\d+:memory:${b.spec.linux?.cgroupsPath}\\n$`));
  });
});
