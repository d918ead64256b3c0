// OCI hooks: each runs at its moment, in the right namespaces, with the container's state JSON on stdin; a
// failing creation hook fails create and leaves nothing behind.
import { chmodSync, existsSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Bundle } from "./helpers.js";
import { alive, IS_RUNC, rtq, stateJson, until, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();

/** A hook script: saves its stdin and its network namespace as <dir>/<name>.json and <name>.netns. */
function hookScript(path: string, dir: string): void {
  writeFileSync(
    path,
    `#!/bin/sh\ncat > "${dir}/$1.json"\nreadlink /proc/self/ns/net > "${dir}/$1.netns"\necho "$@" > "${dir}/$1.args"\n`,
  );
  chmodSync(path, 0o755);
}

const read = (b: Bundle, name: string) => JSON.parse(readFileSync(join(b.dir, `${name}.json`), "utf8"));

describe("hooks", () => {
  it("runs prestart, createRuntime, poststart and poststop on the host with the state on stdin", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "sleep 100"];
    });
    const script = join(b.dir, "hook.sh");
    hookScript(script, b.dir);
    const hook = (name: string) => ({ path: script, args: ["hook.sh", name, "extra-arg"] });
    b.spec.hooks = {
      prestart: [hook("prestart")],
      createRuntime: [hook("createRuntime")],
      poststart: [hook("poststart")],
      poststop: [hook("poststop")],
    };
    b.write();
    const bundleDir = realpathSync(b.dir);

    let r = await rtq(b, ["create", "hk1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pid = track((await stateJson(b, "hk1")).pid as number);
    const hostNet = readlinkSync("/proc/self/ns/net");
    for (const name of ["prestart", "createRuntime"]) {
      const st = read(b, name);
      expect(st).toMatchObject({ id: "hk1", pid, status: "creating", bundle: bundleDir });
      expect(typeof st.ociVersion).toBe("string");
      // On the host, in the runtime's namespaces.
      expect(readFileSync(join(b.dir, `${name}.netns`), "utf8").trim()).toBe(hostNet);
      expect(readFileSync(join(b.dir, `${name}.args`), "utf8")).toBe(`${name} extra-arg\n`);
    }
    // runc 1.1 ran poststart hooks at create (fixed in runc 1.2): only tsrun is held to the spec here.
    if (!IS_RUNC) expect(existsSync(join(b.dir, "poststart.json"))).toBe(false);

    r = await rtq(b, ["start", "hk1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await until("poststart", () => existsSync(join(b.dir, "poststart.netns")));
    expect(read(b, "poststart")).toMatchObject({
      id: "hk1",
      pid,
      status: IS_RUNC ? "created" : "running",
      bundle: bundleDir,
    });
    expect(existsSync(join(b.dir, "poststop.json"))).toBe(false);

    r = await rtq(b, ["kill", "hk1", "KILL"]);
    expect(r.code).toBe(0);
    await until("killed", () => !alive(pid));
    r = await rtq(b, ["delete", "hk1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(b.dir, "poststop.netns"))).toBe(true);
    const post = read(b, "poststop");
    expect(post).toMatchObject({ id: "hk1", status: "stopped", bundle: bundleDir });
  });

  it("runs createContainer in the container's namespaces and startContainer inside the container", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "sleep 100"];
      s.root!.readonly = false;
    });
    // createContainer: a host path, run from the container's namespaces before pivot_root.
    const script = join(b.dir, "hook.sh");
    hookScript(script, b.dir);
    // startContainer: a path inside the container, which writes inside it too.
    hookScript(join(b.dir, "rootfs/hook.sh"), "");
    b.spec.hooks = {
      createContainer: [{ path: script, args: ["hook.sh", "createContainer"] }],
      startContainer: [{ path: "/hook.sh", args: ["hook.sh", "startContainer"] }],
    };
    b.write();

    expect((await rtq(b, ["create", "hk2"])).code).toBe(0);
    const pid = track((await stateJson(b, "hk2")).pid as number);
    const containerNet = readlinkSync(`/proc/${pid}/ns/net`);
    expect(containerNet).not.toBe(readlinkSync("/proc/self/ns/net"));
    expect(readFileSync(join(b.dir, "createContainer.netns"), "utf8").trim()).toBe(containerNet);
    const cc = read(b, "createContainer");
    expect(cc).toMatchObject({ id: "hk2", status: "creating" });
    // runc 1.1 gives the pid as the container sees it (1), tsrun as the host does.
    expect([1, pid]).toContain(cc.pid);
    expect(existsSync(join(b.dir, "rootfs/startContainer.json"))).toBe(false);

    expect((await rtq(b, ["start", "hk2"])).code).toBe(0);
    // The hook runs after start returns; its shell creates the file before writing it, so wait for content.
    const netns = join(b.dir, "rootfs/startContainer.netns");
    await until("startContainer", () => existsSync(netns) && readFileSync(netns, "utf8").trim() !== "");
    expect(readFileSync(join(b.dir, "rootfs/startContainer.netns"), "utf8").trim()).toBe(containerNet);
    expect(JSON.parse(readFileSync(join(b.dir, "rootfs/startContainer.json"), "utf8"))).toMatchObject({
      id: "hk2",
      status: "created",
    });
    expect((await rtq(b, ["delete", "--force", "hk2"])).code).toBe(0);
  });

  for (const kind of ["prestart", "createRuntime", "createContainer"] as const) {
    it(`fails create when a ${kind} hook fails, leaving no state or process`, async () => {
      const b = bundle((s) => {
        s.process!.args = ["sleep", "100"];
      });
      const script = join(b.dir, "fail.sh");
      writeFileSync(script, `#!/bin/sh\nreadlink /proc/self/ns/pid > "${b.dir}/fail.pidns"\nexit 3\n`);
      chmodSync(script, 0o755);
      b.spec.hooks = { [kind]: [{ path: script }] };
      b.write();
      const r = await rtq(b, ["create", "hkf"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/hook/);
      expect(existsSync(join(b.dir, "fail.pidns"))).toBe(true);
      expect((await rtq(b, ["state", "hkf"])).stderr).toContain("does not exist");
      // Whatever init there was is gone: nothing is left in the bundle's cgroup.
      const procs = join("/sys/fs/cgroup/pids", b.spec.linux!.cgroupsPath!, "cgroup.procs");
      await until("cgroup gone", () => !existsSync(procs) || readFileSync(procs, "utf8") === "", 2000);
    });
  }

  it("fails create when a hook times out", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sleep", "100"];
      s.hooks = { prestart: [{ path: "/bin/sleep", args: ["sleep", "10"], timeout: 1 }] };
    });
    const t0 = Date.now();
    const r = await rtq(b, ["create", "hkt"]);
    expect(r.code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await rtq(b, ["state", "hkt"])).code).not.toBe(0);
  });
});
