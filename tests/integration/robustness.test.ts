// Faults and races: the runtime killed at each step of create and during start, deletes racing each other and a
// create, runc's id rule, the state root's modes, and operations on one container waiting for each other. After
// each case nothing may be left that `delete --force` cannot clean: no process, mount, cgroup or state dir.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupsNamed, mountsUnder, processesUnder, settle, stateEntries } from "../stress/leaks.js";
import { alive, type Bundle, ENV, IS_RUNC, RUNTIME, rtq, stateOf, until, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();
const LOOP = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"];

function spawnQuiet(b: Bundle, args: string[]): ChildProcess {
  // stdio to /dev/null: a created init inherits it, and nothing must wait on its pipes.
  return spawn(RUNTIME, ["--root", b.root, ...args], { cwd: b.dir, env: ENV, stdio: "ignore" });
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) r(c.exitCode);
    else c.on("exit", (code) => r(code));
  });

/** Everything the bundle may have left, after a `delete --force` of `id`. */
async function cleanUp(b: Bundle, id: string, spare: number[] = []): Promise<string[]> {
  const r = await rtq(b, ["delete", "--force", id]);
  const found: string[] = [];
  if (r.code !== 0) found.push(`delete --force: ${r.code} ${r.stderr}`);
  const cg = b.spec.linux?.cgroupsPath ?? "";
  await settle(() => processesUnder(b.dir).every((p) => spare.includes(p)) && cgroupsNamed(cg).length === 0);
  for (const p of processesUnder(b.dir)) if (!spare.includes(p)) found.push(`process ${p}`);
  for (const d of cgroupsNamed(cg)) found.push(`cgroup ${d}`);
  for (const m of mountsUnder(b.dir)) found.push(`mount ${m}`);
  for (const e of stateEntries(b.root)) found.push(`state ${e}`);
  return found;
}

/** A host hook that records the state it gets and its pid, then blocks: a real point to kill the runtime at. */
function blockingHook(b: Bundle, name: string) {
  return {
    path: "/bin/sh",
    args: ["sh", "-c", `cat > ${b.dir}/${name}.state; echo $$ > ${b.dir}/${name}.pid; exec sleep 30`],
  };
}

describe("container ids", () => {
  it("follows runc 1.1's rule", async () => {
    const b = bundle();
    for (const id of ["a,b", ".x", "a..b", "+-."])
      expect((await rtq(b, ["state", id])).stderr, id).toContain("does not exist");
    for (const id of ["a b", "..", ".", "x/y", "\u00e4", "a:b"])
      expect((await rtq(b, ["state", id])).stderr, id).toContain("invalid container ID format");
    const r = await rtq(b, ["create", "--bundle", b.dir, "c,1"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    track(stateOf(b, "c,1")?.pid ?? 0);
    expect(await cleanUp(b, "c,1")).toEqual([]);
  });
});

describe("the state root", () => {
  it("is private (0700), each container's directory 0711, state.json not world-readable", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    expect(existsSync(b.root)).toBe(false);
    expect((await rtq(b, ["create", "--bundle", b.dir, "m1"])).code).toBe(0);
    track(stateOf(b, "m1")?.pid ?? 0);
    expect(statSync(b.root).mode & 0o7777).toBe(0o700);
    expect(statSync(join(b.root, "m1")).mode & 0o7777).toBe(0o711);
    expect(statSync(join(b.root, "m1", "state.json")).mode & 0o077).toBe(0);
    expect(await cleanUp(b, "m1")).toEqual([]);
  });
});

describe("concurrent deletes", () => {
  it("ten delete --force of one running container all exit 0", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    expect((await rtq(b, ["run", "-d", "--bundle", b.dir, "d1"])).code).toBe(0);
    const pid = track(stateOf(b, "d1")?.pid ?? 0);
    const rs = await Promise.all(Array.from({ length: 10 }, () => rtq(b, ["delete", "--force", "d1"])));
    expect(rs.map((r) => [r.code, r.stderr])).toEqual(rs.map(() => [0, ""]));
    await until("init gone", () => !alive(pid));
    expect(await cleanUp(b, "d1")).toEqual([]);
  });

  it("a create racing delete --force ends as a container or as nothing, never half of one", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    for (const delay of [0, 10, 30, 60, 120]) {
      const create = spawnQuiet(b, ["create", "--bundle", b.dir, "r1"]);
      await new Promise((r) => setTimeout(r, delay));
      const del = await rtq(b, ["delete", "--force", "r1"]);
      const code = await exited(create);
      expect([del.code, del.stderr], `delay ${delay}`).toEqual([0, ""]);
      const st = stateOf(b, "r1");
      if (st) {
        // The delete came first: the container must be whole.
        expect(code).toBe(0);
        expect(st.status).toBe("created");
        expect(alive(st.pid)).toBe(true);
      }
      if (!IS_RUNC) {
        // Whatever happened, no directory without a record is left (runc has no lock and may leave one).
        for (const e of stateEntries(b.root)) expect(existsSync(join(b.root, e, "state.json")), e).toBe(true);
      }
      expect(await cleanUp(b, "r1"), `delay ${delay}`).toEqual([]);
    }
  });
});

describe.skipIf(IS_RUNC)("the container lock", () => {
  it("delete --force waits for a create in progress, then deletes the container it made", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    b.spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${b.dir}/in-hook; sleep 1`] }] };
    b.write();
    const create = spawnQuiet(b, ["create", "--bundle", b.dir, "l1"]);
    await until("hook", () => existsSync(join(b.dir, "in-hook")));
    const r = await rtq(b, ["delete", "--force", "l1"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    // The create finished first, successfully, and the delete removed what it made.
    expect(await exited(create)).toBe(0);
    expect(stateOf(b, "l1")).toBeUndefined();
    expect(await cleanUp(b, "l1")).toEqual([]);
  });

  it("is released by the kernel when the runtime holding it is killed", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    b.spec.hooks = { prestart: [blockingHook(b, "prestart")] };
    b.write();
    const create = spawnQuiet(b, ["create", "--bundle", b.dir, "l2"]);
    await until("hook", () => existsSync(join(b.dir, "prestart.pid")));
    const hook = Number(readFileSync(join(b.dir, "prestart.pid"), "utf8"));
    create.kill("SIGKILL");
    await exited(create);
    const t0 = Date.now();
    const r = await rtq(b, ["delete", "--force", "l2"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(Date.now() - t0).toBeLessThan(2000);
    process.kill(hook, "SIGKILL");
    expect(await cleanUp(b, "l2")).toEqual([]);
  });
});

// runc 1.1.5 fails these: killed during create it leaves the container's cgroups behind for good.
describe.skipIf(IS_RUNC)("the runtime killed (SIGKILL) during create", () => {
  // Host hooks run while the init waits at a sync point, mounts made; createContainer runs inside the init.
  for (const kind of ["prestart", "createRuntime", "createContainer"] as const) {
    it(`while a ${kind} hook runs: the init dies, list ignores the remains, delete --force cleans them`, async () => {
      const b = bundle((s) => {
        s.process!.args = LOOP;
      });
      b.spec.hooks = { [kind]: [blockingHook(b, kind)] };
      b.write();
      const create = spawnQuiet(b, ["create", "--bundle", b.dir, "k1"]);
      await until("hook", () => existsSync(join(b.dir, `${kind}.pid`)));
      const init = track(
        (JSON.parse(readFileSync(join(b.dir, `${kind}.state`), "utf8")) as { pid: number }).pid,
      );
      // Its pid as the hook saw it: a host pid for a host hook (a createContainer hook's is in the container).
      const hook = Number(readFileSync(join(b.dir, `${kind}.pid`), "utf8"));
      expect(alive(init)).toBe(true);
      create.kill("SIGKILL");
      await exited(create);
      // PR_SET_PDEATHSIG until ready: no orphan init, and with it its pid namespace (a createContainer hook).
      await until("init gone", () => !alive(init), 3000);
      const list = await rtq(b, ["list", "--format", "json"]);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout || "null") ?? []).toEqual([]);
      expect((await rtq(b, ["state", "k1"])).stderr).toContain("does not exist");
      // A host hook is the user's program and outlives the runtime, as with runc; a createContainer hook dies
      // with the container's pid namespace (cleanUp finds it by its cwd in the rootfs otherwise).
      const spare = kind === "createContainer" ? [] : [hook];
      expect(await cleanUp(b, "k1", spare)).toEqual([]);
      if (kind !== "createContainer") process.kill(hook, "SIGKILL");
    });
  }

  it("at any moment from spawn to ready: what is left is a whole container or removable", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    for (const delay of [0, 20, 40, 60, 90, 130, 200]) {
      const create = spawnQuiet(b, ["create", "--bundle", b.dir, "k2"]);
      await new Promise((r) => setTimeout(r, delay));
      create.kill("SIGKILL");
      await exited(create);
      // The init may take a moment to notice: the parent's death signal, or EOF on its channel.
      await settle(() => {
        const st = stateOf(b, "k2");
        return processesUnder(b.dir).length === 0 || st?.status === "created";
      });
      const st = stateOf(b, "k2");
      if (st) expect(["created", "stopped"]).toContain(st.status);
      else expect(processesUnder(b.dir), `delay ${delay}`).toEqual([]);
      expect(await cleanUp(b, "k2"), `delay ${delay}`).toEqual([]);
    }
  });
});

describe("the runtime killed (SIGKILL) during start", () => {
  it("leaves a created or running container that delete --force removes", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    for (const delay of [0, 15, 30, 60]) {
      expect((await rtq(b, ["create", "--bundle", b.dir, "s1"])).code).toBe(0);
      const pid = track(stateOf(b, "s1")?.pid ?? 0);
      const start = spawnQuiet(b, ["start", "s1"]);
      await new Promise((r) => setTimeout(r, delay));
      start.kill("SIGKILL");
      await exited(start);
      const st = stateOf(b, "s1");
      expect(["created", "running"]).toContain(st?.status);
      expect(alive(pid)).toBe(true);
      // The state tells the truth: a second start runs a created container, and refuses a running one at once.
      const t0 = Date.now();
      const again = await rtq(b, ["start", "s1"]);
      expect(Date.now() - t0, `delay ${delay}`).toBeLessThan(3000);
      if (st?.status === "created") expect([again.code, again.stderr]).toEqual([0, ""]);
      else expect(again.stderr).toContain("already running");
      expect(await cleanUp(b, "s1"), `delay ${delay}`).toEqual([]);
      expect(alive(pid)).toBe(false);
    }
  });
});

describe.skipIf(IS_RUNC)("errors", () => {
  it("are one line on stderr and in the --log file, even with a hook's multi-line output", async () => {
    const b = bundle();
    b.spec.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", "echo one; echo two >&2; exit 3"] }] };
    b.write();
    const log = join(b.dir, "log.json");
    const r = await rtq(b, ["create", "--bundle", b.dir, "h1"], {
      global: ["--root", b.root, "--log", log, "--log-format", "json"],
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/prestart hook #0: exit status 3, output: one.*two/);
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).msg).toBe(r.stderr.trimEnd());
    expect(await cleanUp(b, "h1")).toEqual([]);
  });
});

describe("an init that dies before start", () => {
  it("makes start fail at once, and delete clean it", async () => {
    const b = bundle((s) => {
      s.process!.args = LOOP;
    });
    expect((await rtq(b, ["create", "--bundle", b.dir, "e1"])).code).toBe(0);
    const pid = track(stateOf(b, "e1")?.pid ?? 0);
    process.kill(pid, "SIGKILL");
    await until("dead", () => !alive(pid));
    const t0 = Date.now();
    const r = await rtq(b, ["start", "e1"]);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/stopped|not running/);
    expect(await cleanUp(b, "e1")).toEqual([]);
  });
});
