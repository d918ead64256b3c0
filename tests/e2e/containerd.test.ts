// containerd 1.6 and its runc v2 shim driving the runtime under test through `ctr`, as clients.md describes.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Containerd, makeImageArchive, startContainerd } from "./containerd.js";
import {
  alive,
  busyCgroupsUnder,
  cgroupsUnder,
  E2E,
  FACTS,
  makeRootfs,
  RUNTIME,
  removeCgroups,
  removeState,
  run,
  runInPty,
  sleep,
  stateEntries,
  sweep,
  TASK_UPDATE,
  tempBase,
  until,
  WAIT_SIZE,
} from "./helpers.js";

const T = 60_000;
/**
 * Cases that check a process's output pause before it exits: under load ctr 1.6 sometimes deletes the process, and
 * cancels its output copy, before the last output has reached ctr (seen with runc as often as with tsrun).
 */
const PAUSE = "sleep 0.2";

describe.skipIf(!E2E)(`containerd with ${RUNTIME}`, () => {
  let base: string;
  let rootfs: string;
  let cd: Containerd;
  const created: string[] = [];
  let n = 0;
  /** A fresh container id, removed after the case whatever happens. */
  const newId = (name: string) => {
    const id = `e2e-${name}-${++n}`;
    created.push(id);
    return id;
  };
  const runArgs = (...extra: string[]) => ["run", "--runc-binary", RUNTIME, "--env", "PATH=/bin", ...extra];
  const ctr = (args: string[], opts?: Parameters<Containerd["ctr"]>[1]) => cd.ctr(args, opts);
  const taskStatus = async (id: string) => {
    const ls = await ctr(["task", "ls"]);
    const line = ls.stdout.split("\n").find((l) => l.split(/\s+/)[0] === id);
    return line ? { pid: Number(line.split(/\s+/)[1]), status: line.split(/\s+/)[2] } : undefined;
  };
  /** A long-running detached task with its output in a file. */
  const detached = async (id: string, ...cmd: string[]) => {
    const log = join(base, `${id}.log`);
    const r = await ctr([...runArgs("-d", "--log-uri", `file://${log}`, "--rootfs", rootfs, id), ...cmd]);
    expect(r.code, r.all).toBe(0);
    await until(`${id} running`, async () => (await taskStatus(id))?.status === "RUNNING");
    return log;
  };
  const descendants = (pid: number): number[] => {
    const parent = new Map<number, number>();
    for (const p of readdirSync("/proc")) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8");
        parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch {}
    }
    const out: number[] = [];
    const walk = (p: number) => {
      for (const [c, pp] of parent) {
        if (pp !== p) continue;
        out.push(c);
        walk(c);
      }
    };
    walk(pid);
    return out;
  };

  beforeAll(async () => {
    base = tempBase("containerd");
    rootfs = makeRootfs(join(base, "rootfs"));
    cd = await startContainerd(base);
  });

  afterEach(async () => {
    for (const id of created.splice(0)) await cd.remove(id);
  }, T);

  afterAll(async () => {
    if (!cd) return;
    await ctr(["images", "rm", "localhost/tsrun-e2e/busybox:1"]).catch(() => {});
    const leftTasks = (await ctr(["task", "ls", "-q"])).stdout.trim();
    const leftContainers = (await ctr(["container", "ls", "-q"])).stdout.trim();
    await cd.stop();
    const { procs, mounts } = await sweep(base, `/${cd.ns}/`);
    const state = stateEntries(cd.shimRoot, () => true);
    const defaultState = ["/run/tsrun", "/run/runc"].flatMap((r) =>
      stateEntries(r, (n) => n.startsWith("e2e-")),
    );
    const cgroups = cgroupsUnder(`/${cd.ns}`).filter((d) => !d.endsWith(`/${cd.ns}`));
    removeState([...state, ...defaultState]);
    const busy = busyCgroupsUnder(`/${cd.ns}`);
    removeCgroups(`/${cd.ns}`);
    rmSync(cd.shimRoot, { recursive: true, force: true });
    const leaks = { leftTasks, leftContainers, procs, mounts, state, defaultState, cgroups, busy };
    if (Object.values(leaks).some((v) => v.length)) {
      console.error(`containerd log tail:\n${cd.log().split("\n").slice(-40).join("\n")}`);
    }
    rmSync(base, { recursive: true, force: true });
    expect(leaks).toEqual({
      leftTasks: "",
      leftContainers: "",
      procs: [],
      mounts: [],
      state: [],
      defaultState: [],
      cgroups: [],
      busy: [],
    });
  }, T);

  it(
    "run --rm echo",
    async () => {
      const id = newId("echo");
      const r = await ctr([...runArgs("--rm", "--rootfs", rootfs, id), "sh", "-c", `echo hi; ${PAUSE}`]);
      expect(r.stdout, r.stderr).toBe("hi\n");
      expect(r.code).toBe(0);
    },
    T,
  );

  it(
    "the runtime under test holds the task's state (it, not another runc, ran it)",
    async () => {
      const id = newId("state");
      await detached(id, "sleep", "1000");
      const st = await run(RUNTIME, ["--root", cd.shimRoot, "state", id], { env: {} });
      expect(st.code, st.all).toBe(0);
      const state = JSON.parse(st.stdout);
      expect({ id: state.id, status: state.status, pid: state.pid }).toEqual({
        id,
        status: "running",
        pid: (await taskStatus(id))?.pid,
      });
    },
    T,
  );

  it(
    "run returns the exit code",
    async () => {
      const id = newId("exit");
      const r = await ctr([
        ...runArgs("--rm", "--rootfs", rootfs, id),
        "sh",
        "-c",
        `echo out; echo err >&2; ${PAUSE}; exit 3`,
      ]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 3,
        stdout: "out\n",
        stderr: "err\n",
      });
    },
    T,
  );

  it(
    "run passes stdin through",
    async () => {
      const id = newId("stdin");
      // ctr only forwards EOF once the task exists, so close stdin after cat has echoed the first line.
      const r = await ctr([...runArgs("--rm", "--rootfs", rootfs, id), "cat"], {
        input: "one\n",
        closeStdinWhen: (out) => out.includes("one\n"),
      });
      expect(r.stdout, r.stderr).toBe("one\n");
      expect(r.code).toBe(0);
    },
    T,
  );

  it(
    "run -t inside a terminal: size, tty, exit code",
    async () => {
      const id = newId("tty");
      const r = await runInPty(31, 97, [
        "ctr",
        "--address",
        cd.sock,
        "--namespace",
        cd.ns,
        ...runArgs("--rm", "-t", "--rootfs", rootfs, id),
        "sh",
        "-c",
        `${WAIT_SIZE}; tty; ${PAUSE}; exit 7`,
      ]);
      expect(r.stdout, `exit ${r.code}: ${JSON.stringify(r.all)}`).toMatch(/size=31 97\r*\n/);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(r.code, r.all).toBe(7);
    },
    T,
  );

  it(
    "run -d, then task exec without and with -t",
    async () => {
      const id = newId("exec");
      await detached(id, "sleep", "1000");
      const e = await ctr([
        "task",
        "exec",
        "--exec-id",
        "e1",
        id,
        "sh",
        "-c",
        `echo exec-ok; ${PAUSE}; exit 5`,
      ]);
      expect({ code: e.code, out: e.all }).toEqual({ code: 5, out: "exec-ok\n" });
      const t = await runInPty(24, 80, [
        "ctr",
        "--address",
        cd.sock,
        "--namespace",
        cd.ns,
        "task",
        "exec",
        "-t",
        "--exec-id",
        "e2",
        id,
        "sh",
        "-c",
        `${WAIT_SIZE}; tty; ${PAUSE}; exit 4`,
      ]);
      expect(t.stdout, `exit ${t.code}: ${JSON.stringify(t.all)}`).toMatch(/size=24 80\r*\n/);
      expect(t.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(t.code, t.all).toBe(4);
      const i = await ctr(["task", "exec", "--exec-id", "e3", id, "cat"], {
        input: "in-exec\n",
        closeStdinWhen: (out) => out.includes("in-exec\n"),
      });
      expect({ code: i.code, out: i.all }).toEqual({ code: 0, out: "in-exec\n" });
    },
    T,
  );

  it(
    "task ps lists the init process",
    async () => {
      const id = newId("ps");
      await detached(id, "sleep", "1000");
      const st = await taskStatus(id);
      const r = await ctr(["task", "ps", id]);
      expect(r.code, r.all).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${st?.pid}\\s`, "m"));
    },
    T,
  );

  it(
    "task pause and resume, exec after resume",
    async () => {
      const id = newId("pause");
      await detached(id, "sleep", "1000");
      const p = await ctr(["task", "pause", id]);
      expect(p.code, p.all).toBe(0);
      expect((await taskStatus(id))?.status).toBe("PAUSED");
      const r = await ctr(["task", "resume", id]);
      expect(r.code, r.all).toBe(0);
      expect((await taskStatus(id))?.status).toBe("RUNNING");
      const e = await ctr(["task", "exec", "--exec-id", "after", id, "sh", "-c", `echo resumed; ${PAUSE}`]);
      expect({ code: e.code, out: e.all }).toEqual({ code: 0, out: "resumed\n" });
    },
    T,
  );

  it(
    "task kill sends SIGTERM to init, which traps it",
    async () => {
      const id = newId("kill");
      const log = await detached(
        id,
        "sh",
        "-c",
        "trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 0.1; done",
      );
      await until("ready", () => readFileSync(log, "utf8").includes("ready"));
      const k = await ctr(["task", "kill", id]);
      expect(k.code, k.all).toBe(0);
      await until("stopped", async () => (await taskStatus(id))?.status === "STOPPED");
      const d = await ctr(["task", "delete", id]);
      expect(d.code, d.all).toBe(0);
      expect(readFileSync(log, "utf8")).toContain("got-term");
    },
    T,
  );

  it(
    "task kill -a reaches every process, not only init",
    async () => {
      const id = newId("killall");
      // init ignores SIGTERM (no handler, pid 1), so the task only ends if the two children get it too.
      await detached(id, "sh", "-c", "sleep 1000 & sleep 1001 & wait; wait");
      const st = await taskStatus(id);
      await until("two sleeps", () => descendants(st?.pid ?? 0).length >= 2);
      const kids = descendants(st?.pid ?? 0);
      const k = await ctr(["task", "kill", "-a", "-s", "SIGTERM", id]);
      expect(k.code, k.all).toBe(0);
      await until("stopped", async () => (await taskStatus(id))?.status === "STOPPED");
      expect(kids.filter(alive)).toEqual([]);
    },
    T,
  );

  it(
    "task delete -f removes a running task",
    async () => {
      const id = newId("delf");
      await detached(id, "sleep", "1000");
      const pid = (await taskStatus(id))?.pid ?? 0;
      const t0 = Date.now();
      const d = await ctr(["task", "delete", "-f", id], { timeout: 15_000 });
      expect(d.code, d.all).toBe(0);
      // The shim's cleanup gives `delete --force` 5 s.
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(await taskStatus(id)).toBeUndefined();
      await until("init gone", () => !alive(pid));
      const c = await ctr(["container", "delete", id]);
      expect(c.code, c.all).toBe(0);
    },
    T,
  );

  it(
    "the container sees only fds 0-2, a loopback that is up, and its cgroup",
    async () => {
      const id = newId("inside");
      const r = await ctr([
        ...runArgs("--rm", "--rootfs", rootfs, id),
        "sh",
        "-c",
        `cd /proc/$$/fd && echo fds: *; ip -o link show lo; grep memory /proc/self/cgroup; ${PAUSE}`,
      ]);
      expect(r.code, r.all).toBe(0);
      // 3 is the directory the glob reads; anything above is an fd leaked from the client or the runtime.
      expect(r.stdout).toMatch(/^fds: 0 1 2 3$/m);
      expect(r.stdout).toMatch(/lo: <LOOPBACK,UP,LOWER_UP>/);
      expect(r.stdout).toMatch(new RegExp(`:memory:/${cd.ns}/${id}$`, "m"));
    },
    T,
  );

  it(
    "a missing binary fails run and exec with the runtime's error",
    async () => {
      const id = newId("missing");
      const r = await ctr([...runArgs("--rm", "--rootfs", rootfs, id), "/no/such/binary"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no such file or directory|executable file not found/);
      const id2 = newId("missingexec");
      await detached(id2, "sleep", "1000");
      const e = await ctr(["task", "exec", "--exec-id", "nx", id2, "/no/such/binary"]);
      expect(e.code).not.toBe(0);
      expect(e.stderr).toMatch(/no such file or directory|executable file not found/);
      // The failed exec leaves the container running and usable.
      const ok = await ctr(["task", "exec", "--exec-id", "ok", id2, "sh", "-c", `echo still-here; ${PAUSE}`]);
      expect({ code: ok.code, out: ok.all }).toEqual({ code: 0, out: "still-here\n" });
    },
    T,
  );

  it(
    "a 16 MiB memory limit ends in an OOM kill, exit 137, and the shim sees the OOM event",
    async () => {
      const id = newId("oom");
      // The shim watches the container's memory cgroup: the OOM must reach containerd's event stream.
      const events = spawn("ctr", ["--address", cd.sock, "--namespace", cd.ns, "events"], {
        detached: true,
        stdio: ["ignore", "pipe", "ignore"],
      });
      let seen = "";
      events.stdout.on("data", (d: Buffer) => {
        seen += d.toString();
      });
      await sleep(300);
      const r = await ctr([
        ...runArgs("--rm", "--memory-limit", String(16 << 20), "--rootfs", rootfs, id),
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=64M",
        "count=1",
      ]);
      try {
        expect(r.code, r.all).toBe(137);
        await until("the oom event", () => new RegExp(`/tasks/oom .*${id}`).test(seen), 5000).catch(() => {});
        expect(seen).toMatch(new RegExp(`/tasks/oom .*${id}`));
      } finally {
        if (events.pid) process.kill(-events.pid, "SIGKILL");
      }
    },
    T,
  );

  it(
    "task metrics reads the container's cgroup",
    async () => {
      const id = newId("metrics");
      await detached(id, "sleep", "1000");
      const m = await ctr(["task", "metrics", id]);
      expect(m.code, m.all).toBe(0);
      expect(m.stdout).toMatch(/memory\.usage_in_bytes\s+\d+/);
    },
    T,
  );

  it(
    "a task update of memory and pids limits",
    async () => {
      const id = newId("update");
      const r = await ctr([
        ...runArgs("-d", "--memory-limit", String(128 << 20), "--rootfs", rootfs, id),
        "sleep",
        "1000",
      ]);
      expect(r.code, r.all).toBe(0);
      await until(`${id} running`, async () => (await taskStatus(id))?.status === "RUNNING");
      const pid = (await taskStatus(id))?.pid ?? 0;
      // The host side of the task's v1 controllers, from its /proc/PID/cgroup.
      const cgroupFile = (controller: string, file: string) => {
        const line = readFileSync(`/proc/${pid}/cgroup`, "utf8")
          .split("\n")
          .find((l) => l.split(":")[1]?.split(",").includes(controller));
        expect(line, controller).toMatch(new RegExp(`^\\d+:${controller}:/${cd.ns}/${id}$`));
        return readFileSync(join("/sys/fs/cgroup", controller, cd.ns, id, file), "utf8").trim();
      };
      expect({
        memory: cgroupFile("memory", "memory.limit_in_bytes"),
        pids: cgroupFile("pids", "pids.max"),
      }).toEqual({ memory: String(128 << 20), pids: "max" });
      // ctr 1.6 has no update command: Tasks.Update over gRPC, which the shim turns into `update --resources -`.
      const u = await run("/usr/bin/python3", [
        TASK_UPDATE,
        cd.sock,
        cd.ns,
        id,
        JSON.stringify({ memory: { limit: 64 << 20 }, pids: { limit: 20 } }),
      ]);
      expect(u.code, u.all).toBe(0);
      expect({
        memory: cgroupFile("memory", "memory.limit_in_bytes"),
        pids: cgroupFile("pids", "pids.max"),
      }).toEqual({ memory: "67108864", pids: "20" });
      expect((await taskStatus(id))?.status).toBe("RUNNING");
    },
    T,
  );

  it(
    "the process and mounts are what the shim's config asks for",
    async () => {
      const id = newId("config");
      const r = await ctr([...runArgs("--rm", "--rootfs", rootfs, id), "sh", "-c", `${FACTS}; ${PAUSE}`]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout).toBe(
        [
          "CapEff:\t00000000a80425fb",
          "CapBnd:\t00000000a80425fb",
          "NoNewPrivs:\t1",
          "Seccomp:\t0",
          "umask=0022 nofile=1024",
          "timer_list=0 firmware=0",
          "proc-sys-ro",
          "dev: fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero",
          "fd=/proc/self/fd null=ok zero=3",
          "devpts on /dev/pts type devpts",
          "mqueue on /dev/mqueue type mqueue",
          "proc on /proc type proc",
          "shm on /dev/shm type tmpfs",
          "sysfs on /sys type sysfs",
          "tmpfs on /dev type tmpfs",
          "tmpfs on /run type tmpfs",
          "",
        ].join("\n"),
      );
    },
    T,
  );

  it(
    "host pid namespace: after init exits the shim's kill --all ends the orphans",
    async () => {
      const id = newId("hostpid");
      const r = await ctr([
        ...runArgs("--rm", "--with-ns", `pid:/proc/${cd.proc.pid}/ns/pid`, "--rootfs", rootfs, id),
        "sh",
        "-c",
        `sleep 1003 & echo orphan=$!; ${PAUSE}`,
      ]);
      expect(r.code, r.all).toBe(0);
      const pid = Number(r.stdout.match(/orphan=(\d+)/)?.[1]);
      expect(pid).toBeGreaterThan(0);
      await until(
        "the orphan killed",
        () => !alive(pid) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"),
      );
    },
    T,
  );

  // One ctr option each, with what the container must see. Run with runc first to pin the expectations.
  const hostCaps = () => readFileSync("/proc/self/status", "utf8").match(/^CapBnd:\t(\w+)$/m)?.[1];
  const OPTIONS: [string, () => string[], string, () => string][] = [
    [
      "--privileged",
      () => ["--privileged"],
      'grep -E "^CapEff:" /proc/self/status; test -c /dev/loop-control && echo dev',
      () => `CapEff:\t${hostCaps()}\ndev`,
    ],
    ["--read-only", () => ["--read-only"], "touch /x 2>/dev/null || echo ro", () => "ro"],
    [
      "--mount bind, ro",
      () => ["--mount", `type=bind,src=${base},dst=/data,options=rbind:ro`],
      "test -d /data/rootfs && (touch /data/x 2>/dev/null || echo ro)",
      () => "ro",
    ],
    [
      "--cap-add",
      () => ["--cap-add", "CAP_SYS_ADMIN"],
      'grep -E "^CapEff:" /proc/self/status',
      () => "CapEff:\t00000000a82425fb",
    ],
    [
      "--net-host",
      () => ["--net-host"],
      "readlink /proc/self/ns/net",
      () => readlinkSync("/proc/self/ns/net"),
    ],
    [
      "--seccomp (default profile)",
      () => ["--seccomp"],
      "grep Seccomp: /proc/self/status",
      () => "Seccomp:\t2",
    ],
    [
      "--allow-new-privs",
      () => ["--allow-new-privs"],
      "grep NoNewPrivs /proc/self/status",
      () => "NoNewPrivs:\t0",
    ],
    ["--cwd", () => ["--cwd", "/tmp"], "pwd", () => "/tmp"],
  ];
  it.each(OPTIONS)(
    "option: %s",
    async (name, args, cmd, expected) => {
      const id = newId(`opt${OPTIONS.findIndex((o) => o[0] === name)}`);
      const r = await ctr([
        ...runArgs("--rm", ...args(), "--rootfs", rootfs, id),
        "sh",
        "-c",
        `${cmd}; ${PAUSE}`,
      ]);
      expect({ code: r.code, out: r.all }).toEqual({ code: 0, out: `${expected()}\n` });
    },
    T,
  );

  it(
    "four containers in parallel",
    async () => {
      const ids = [1, 2, 3, 4].map((i) => newId(`par${i}`));
      const rs = await Promise.all(
        ids.map((id, i) =>
          ctr([...runArgs("--rm", "--rootfs", rootfs, id), "sh", "-c", `echo par${i}; ${PAUSE}; exit ${i}`]),
        ),
      );
      expect(rs.map((r) => ({ code: r.code, out: r.all }))).toEqual(
        [0, 1, 2, 3].map((i) => ({ code: i, out: `par${i}\n` })),
      );
    },
    T,
  );

  it(
    "run --no-pivot goes through runc on containerd's PATH",
    async () => {
      const id = newId("nopivot");
      const r = await ctr([
        "run",
        "--rm",
        "--no-pivot",
        "--env",
        "PATH=/bin",
        "--rootfs",
        rootfs,
        id,
        "sh",
        "-c",
        `echo hi; ${PAUSE}`,
      ]);
      expect({ code: r.code, out: r.all }).toEqual({ code: 0, out: "hi\n" });
      expect(readFileSync(cd.pathRuncLog, "utf8")).toMatch(new RegExp(`create .*--no-pivot.* ${id}\\n`));
    },
    T,
  );

  it(
    "container create, then task start in the foreground",
    async () => {
      const id = newId("cstart");
      // No "-c" in the command: `ctr container create` reorders flags and would take it for its own --config.
      writeFileSync(join(rootfs, "e2e-start.sh"), `echo started; ${PAUSE}; exit 6\n`);
      const c = await ctr([
        "container",
        "create",
        "--env",
        "PATH=/bin",
        "--rootfs",
        rootfs,
        id,
        "sh",
        "/e2e-start.sh",
      ]);
      expect(c.code, c.all).toBe(0);
      const s = await ctr(["task", "start", id]);
      expect({ code: s.code, out: s.all }).toEqual({ code: 6, out: "started\n" });
      expect(readFileSync(cd.pathRuncLog, "utf8")).toMatch(new RegExp(`create .* ${id}\\n`));
    },
    T,
  );

  it(
    "an imported image runs on an overlay snapshot",
    async () => {
      const ref = "localhost/tsrun-e2e/busybox:1";
      const archive = await makeImageArchive(rootfs, join(base, "image"), ref);
      const imp = await ctr(["images", "import", archive]);
      expect(imp.code, imp.all).toBe(0);
      const id = newId("image");
      const r = await ctr([
        "run",
        "--rm",
        "--runc-binary",
        RUNTIME,
        ref,
        id,
        "sh",
        "-c",
        'echo "$PATH"; cat /etc/hostname',
      ]);
      expect({ code: r.code, out: r.all }).toEqual({
        code: 0,
        out: "/usr/sbin:/usr/bin:/sbin:/bin\ntsrun-test\n",
      });
    },
    T,
  );
});
