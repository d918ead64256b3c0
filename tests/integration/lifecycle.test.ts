// created → running → stopped → deleted, seen through state, list, start, kill and delete, with runc's answers to
// every out-of-order call (clients match on these: clients.md).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alive, ENV, IS_RUNC, procState, RUNTIME, rtq, stateJson, until, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"];

async function created(edit?: Parameters<typeof bundle>[0], id = "c1", extra: string[] = []) {
  const b = bundle((s) => {
    s.process!.args = LOOP;
    edit?.(s);
  });
  const r = await rtq(b, ["create", "--bundle", b.dir, ...extra, id]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const st = await stateJson(b, id);
  track(st.pid as number);
  return { b, pid: st.pid as number };
}

describe("the lifecycle through state", () => {
  it("reports created, running, stopped, then does not exist", async () => {
    const { b, pid } = await created();
    const bundleDir = realpathSync(b.dir);
    let st = await stateJson(b, "c1");
    expect(st.status).toBe("created");
    expect(st.id).toBe("c1");
    expect(st.pid).toBeGreaterThan(1);
    expect(st.bundle).toBe(bundleDir);
    expect(st.rootfs).toBe(join(bundleDir, "rootfs"));
    expect(st.created).toMatch(RFC3339);
    expect(Math.abs(Date.parse(st.created as string) - Date.now())).toBeLessThan(60_000);
    expect(typeof st.ociVersion).toBe("string");
    expect(st.ociVersion).not.toBe("");
    expect(st.owner).toBe("");
    expect(alive(pid)).toBe(true);

    let r = await rtq(b, ["start", "c1"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toBe("");
    st = await stateJson(b, "c1");
    expect(st.status).toBe("running");
    expect(st.pid).toBe(pid);
    const createdAt = st.created;

    r = await rtq(b, ["kill", "c1", "KILL"]);
    expect(r.code).toBe(0);
    await until("init gone", () => !alive(pid));
    st = await stateJson(b, "c1");
    expect(st.status).toBe("stopped");
    expect(st.pid).toBe(0);
    expect(st.created).toBe(createdAt);

    r = await rtq(b, ["delete", "c1"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toBe("");
    r = await rtq(b, ["state", "c1"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("does not exist");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("lists containers as a table and as JSON", async () => {
    const { b, pid } = await created(undefined, "lst1");
    let r = await rtq(b, ["list"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]);
    expect(lines).toHaveLength(2);
    const cols = lines[1]!.split(/\s+/);
    expect(cols.slice(0, 4)).toEqual(["lst1", String(pid), "created", realpathSync(b.dir)]);
    expect(cols[4]).toMatch(RFC3339);

    r = await rtq(b, ["list", "-q"]);
    expect(r.stdout).toBe("lst1\n");

    r = await rtq(b, ["list", "--format", "json"]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: "lst1", pid, status: "created", bundle: realpathSync(b.dir) });
    expect(list[0].created).toMatch(RFC3339);

    expect((await rtq(b, ["delete", "--force", "lst1"])).code).toBe(0);
    r = await rtq(b, ["list", "--format", "json"]);
    expect(r.code).toBe(0);
    // runc prints null for no containers: accept what a JSON client reads as an empty list.
    expect(JSON.parse(r.stdout) ?? []).toEqual([]);
  });
});

describe("start", () => {
  it("fails the second time and on a stopped container", async () => {
    const { b, pid } = await created((s) => {
      s.process!.args = ["sh", "-c", "sleep 0.3"];
    });
    expect((await rtq(b, ["start", "c1"])).code).toBe(0);
    let r = await rtq(b, ["start", "c1"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /cannot start an already running container|cannot start a container that has stopped/,
    );
    await until("exit", () => !alive(pid));
    r = await rtq(b, ["start", "c1"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot start a container that has stopped");
    expect((await rtq(b, ["delete", "c1"])).code).toBe(0);
  });

  it("fails on a missing container", async () => {
    const b = bundle();
    const r = await rtq(b, ["start", "nope"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("does not exist");
  });
});

describe("kill", () => {
  for (const sig of ["9", "KILL", "SIGKILL"]) {
    it(`sends ${sig}`, async () => {
      const { b, pid } = await created((s) => {
        s.process!.args = ["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"];
      });
      expect((await rtq(b, ["start", "c1"])).code).toBe(0);
      const r = await rtq(b, ["kill", "c1", sig]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      await until("killed", () => !alive(pid));
      expect((await stateJson(b, "c1")).status).toBe("stopped");
      expect((await rtq(b, ["delete", "c1"])).code).toBe(0);
    });
  }

  it("sends SIGTERM by default and numbers are decimal", async () => {
    const { b, pid } = await created();
    expect((await rtq(b, ["start", "c1"])).code).toBe(0);
    expect((await rtq(b, ["kill", "c1"])).code).toBe(0);
    await until("terminated", () => !alive(pid));
    expect((await rtq(b, ["delete", "c1"])).code).toBe(0);
  });

  it("refuses an unknown signal", async () => {
    const { b, pid } = await created();
    const r = await rtq(b, ["kill", "c1", "SIGNOPE"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toBe("");
    expect(alive(pid)).toBe(true);
    expect((await rtq(b, ["delete", "--force", "c1"])).code).toBe(0);
  });

  it("fails with 'container not running' on a stopped container, but --all exits 0", async () => {
    const { b, pid } = await created((s) => {
      s.process!.args = ["true"];
    });
    expect((await rtq(b, ["start", "c1"])).code).toBe(0);
    await until("exit", () => !alive(pid));
    let r = await rtq(b, ["kill", "c1", "15"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("container not running");
    r = await rtq(b, ["kill", "--all", "c1", "9"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await rtq(b, ["delete", "c1"])).code).toBe(0);
  });

  it("kills a created container's init", async () => {
    const { b, pid } = await created();
    expect((await rtq(b, ["kill", "c1", "9"])).code).toBe(0);
    await until("killed", () => !alive(pid));
    expect((await stateJson(b, "c1")).status).toBe("stopped");
    expect((await rtq(b, ["delete", "c1"])).code).toBe(0);
  });

  it("fails on a missing container with 'does not exist'", async () => {
    const b = bundle();
    const r = await rtq(b, ["kill", "nope", "9"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("does not exist");
  });
});

describe("delete", () => {
  it("refuses a running container without --force and kills it with --force", async () => {
    const { b, pid } = await created();
    expect((await rtq(b, ["start", "c1"])).code).toBe(0);
    let r = await rtq(b, ["delete", "c1"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/running/);
    expect(alive(pid)).toBe(true);
    expect((await stateJson(b, "c1")).status).toBe("running");
    r = await rtq(b, ["delete", "--force", "c1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await until("killed", () => !alive(pid), 2000);
    expect((await rtq(b, ["state", "c1"])).stderr).toContain("does not exist");
  });

  it("deletes a created container without --force, killing its init (as runc does)", async () => {
    const { b, pid } = await created();
    const r = await rtq(b, ["delete", "c1"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
    await until("killed", () => !alive(pid), 2000);
    expect((await rtq(b, ["state", "c1"])).stderr).toContain("does not exist");
  });

  it("exits 0 for --force on a missing container, non-zero without", async () => {
    const b = bundle();
    let r = await rtq(b, ["delete", "--force", "nope"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
    r = await rtq(b, ["delete", "nope"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("does not exist");
  });

  it("survives two concurrent --force deletes", async () => {
    const { b, pid } = await created();
    expect((await rtq(b, ["start", "c1"])).code).toBe(0);
    const [r1, r2] = await Promise.all([
      rtq(b, ["delete", "--force", "c1"]),
      rtq(b, ["delete", "--force", "c1"]),
    ]);
    expect([r1.code, r2.code, r1.stderr, r2.stderr]).toEqual([0, 0, "", ""]);
    await until("killed", () => !alive(pid), 2000);
    expect((await rtq(b, ["state", "c1"])).code).not.toBe(0);
  });
});

describe("create", () => {
  it("refuses an id that exists and leaves the first container alone", async () => {
    const { b, pid } = await created();
    const r = await rtq(b, ["create", "--bundle", b.dir, "c1"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/exists/);
    expect((await stateJson(b, "c1")).pid).toBe(pid);
    expect((await stateJson(b, "c1")).status).toBe("created");
    expect((await rtq(b, ["delete", "--force", "c1"])).code).toBe(0);
  });

  it("writes the pid file as the bare decimal pid of the container's init", async () => {
    const b0 = bundle((s) => {
      s.process!.args = ["sleep", "1000"];
    });
    const file = join(b0.dir, "init.pid");
    const r = await rtq(b0, ["create", "--bundle", b0.dir, "--pid-file", file, "pf1"]);
    expect(r.code).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^[1-9]\d*$/);
    const pid = track(Number(text));
    expect((await stateJson(b0, "pf1")).pid).toBe(pid);
    // Blocked before exec until start: then the pid is sleep itself.
    expect((await rtq(b0, ["start", "pf1"])).code).toBe(0);
    await until("exec", () => readFileSync(`/proc/${pid}/cmdline`, "utf8") === "sleep\x001000\x00");
    expect(procState(pid)).toMatch(/^[SR]$/);
    expect((await rtq(b0, ["delete", "--force", "pf1"])).code).toBe(0);
  });

  it("a relative pid file is relative to the runtime's cwd", async () => {
    const b = bundle();
    const r = await rtq(b, ["create", "--pid-file", "rel.pid", "pf2"]);
    expect(r.code).toBe(0);
    const pid = track(Number(readFileSync(join(b.dir, "rel.pid"), "utf8")));
    expect((await stateJson(b, "pf2")).pid).toBe(pid);
    expect((await rtq(b, ["delete", "--force", "pf2"])).code).toBe(0);
  });

  it("makes start fail at once when init died before start", async () => {
    const { b, pid } = await created();
    process.kill(pid, "SIGKILL");
    await until("dead", () => !alive(pid));
    const t0 = Date.now();
    const r = await rtq(b, ["start", "c1"]);
    const took = Date.now() - t0;
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toBe("");
    expect(took).toBeLessThan(2000);
    expect((await rtq(b, ["delete", "--force", "c1"])).code).toBe(0);
  });

  it("cleans up a create killed half-way with delete --force", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sleep", "100"];
      s.hooks = { prestart: [{ path: "/bin/sh" }] };
    });
    b.spec.hooks!.prestart![0]!.args = ["sh", "-c", `cat > ${join(b.dir, "hook.state")}; sleep 3`];
    b.write();
    const child = spawn(RUNTIME, ["--root", b.root, "create", "kc1"], {
      cwd: b.dir,
      env: ENV,
      stdio: "ignore",
    });
    await until(
      "hook running",
      () => existsSync(join(b.dir, "hook.state")) && statSync(join(b.dir, "hook.state")).size > 0,
    );
    const pid = track(JSON.parse(readFileSync(join(b.dir, "hook.state"), "utf8")).pid);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    // The half-made init does not outlive the runtime that was making it.
    await until("init gone", () => !alive(pid), 2000);
    const r = await rtq(b, ["delete", "--force", "kc1"]);
    expect(r.code).toBe(0);
    expect(readdirSync(b.root)).toEqual([]);
    // runc 1.1 leaves the cgroup of a killed create behind; tsrun must not.
    const cg = b.spec.linux!.cgroupsPath!;
    if (IS_RUNC)
      for (const ctl of readdirSync("/sys/fs/cgroup"))
        if (existsSync(join("/sys/fs/cgroup", ctl, cg))) rmdirSync(join("/sys/fs/cgroup", ctl, cg));
  });
});
