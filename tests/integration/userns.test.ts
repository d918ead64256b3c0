// A user-namespaced container: root inside is uid 100000 outside, with the spec's mappings in place.
import { chmodSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Spec } from "../../packages/libcontainer/src/index.js";
import { rt, rtq, stateJson, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();

function userns(s: Spec): void {
  s.linux!.namespaces!.push({ type: "user" });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

/** The bundle as the mapped root must see it: mkdtemp makes the bundle dir 0700 for host root alone. */
function mappedBundle(edit: (s: Spec) => void) {
  const b = bundle((s) => {
    userns(s);
    edit(s);
  });
  chmodSync(b.dir, 0o755);
  return b;
}

const field = (status: string, name: string) =>
  status
    .split("\n")
    .find((l) => l.startsWith(`${name}:`))!
    .slice(name.length + 1)
    .trim()
    .split(/\s+/);

describe("user namespace", () => {
  it("is root inside, with the mappings in /proc/self/{uid,gid}_map", async () => {
    const b = mappedBundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/x && ls -n /tmp/x",
      ];
      s.root!.readonly = false;
    });
    const r = await rt(b, ["run", "un1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual(["0", "0"]);
    expect(lines[2]!.trim().split(/\s+/)).toEqual(["0", "100000", "65536"]);
    expect(lines[3]!.trim().split(/\s+/)).toEqual(["0", "100000", "65536"]);
    // A file root makes inside belongs to the mapped ids outside.
    expect(lines[4]).toMatch(/^\S+\s+\d+\s+0\s+0\s/);
  });

  it("runs init as uid and gid 100000 as the host sees it, and maps uid 1000 to 101000", async () => {
    const b = mappedBundle((s) => {
      s.process!.args = ["sleep", "100"];
    });
    const r = await rtq(b, ["create", "un2"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pid = track((await stateJson(b, "un2")).pid as number);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(field(status, "Uid")).toEqual(["100000", "100000", "100000", "100000"]);
    expect(field(status, "Gid")).toEqual(["100000", "100000", "100000", "100000"]);
    expect(readFileSync(`/proc/${pid}/uid_map`, "utf8").trim().split(/\s+/)).toEqual([
      "0",
      "100000",
      "65536",
    ]);
    expect((await rtq(b, ["start", "un2"])).code).toBe(0);
    expect((await rtq(b, ["delete", "--force", "un2"])).code).toBe(0);

    const b2 = mappedBundle((s) => {
      s.process!.args = ["sleep", "100"];
      s.process!.user = { uid: 1000, gid: 1000 };
    });
    expect((await rtq(b2, ["create", "un3"])).code).toBe(0);
    const pid2 = track((await stateJson(b2, "un3")).pid as number);
    expect(field(readFileSync(`/proc/${pid2}/status`, "utf8"), "Uid")).toEqual([
      "101000",
      "101000",
      "101000",
      "101000",
    ]);
    expect((await rtq(b2, ["start", "un3"])).code).toBe(0);
    expect((await rtq(b2, ["delete", "--force", "un3"])).code).toBe(0);
  });

  it("refuses a user namespace without mappings", async () => {
    const b = bundle((s) => {
      s.linux!.namespaces!.push({ type: "user" });
    });
    const r = await rtq(b, ["create", "un4"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/uid ?mappings/i);
  });
});
