// podman 4.3 and conmon driving the runtime under test (`podman --runtime RUNTIME`), isolated under a temp dir.
import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  busyCgroupsUnder,
  cgroupsUnder,
  collect,
  E2E,
  ENV,
  FACTS,
  makeRootfs,
  processesUnder,
  RUNTIME,
  type RunOpts,
  removeCgroups,
  removeState,
  run,
  runInPty,
  sleep,
  stateEntries,
  sweep,
  tempBase,
  WAIT_SIZE,
} from "./helpers.js";

const T = 60_000;
const IMAGE = "localhost/tsrun-e2e/busybox:1";
/** Runtime state roots podman's runtime may use when it is given no --root. */
const DEFAULT_ROOTS = ["/run/tsrun", "/run/runc", "/run/crun"];

describe.skipIf(!E2E)(`podman with ${RUNTIME}`, () => {
  let base: string;
  let env: NodeJS.ProcessEnv;
  let global: string[];
  const cgroupParent = `/tsrun-e2e-podman-${process.pid}`;

  // In the suite's own directory: conmon 2.1.6 drops an empty "oom" file into its working directory on an OOM kill.
  const podman = (args: string[], opts: RunOpts = {}) =>
    run("podman", [...global, ...args], { env, cwd: base, ...opts });
  /** `podman run` with the per-suite cgroup parent, so that leaked cgroups are easy to find. */
  const prun = (...args: string[]) => ["run", "--cgroup-parent", cgroupParent, ...args];
  const pcmd = () => ["podman", ...global];

  beforeAll(async () => {
    base = tempBase("podman");
    const rootfs = makeRootfs(join(base, "rootfs"));
    writeFileSync(join(rootfs, "etc/not-executable"), "#!/bin/sh\necho no\n");
    chmodSync(join(rootfs, "etc/not-executable"), 0o644);
    const conf = join(base, "containers.conf");
    // This VM lacks CAP_SYS_RESOURCE: rlimits above the host's are refused, so ask for modest ones.
    writeFileSync(
      conf,
      `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${join(base, "events.log")}"
lock_type = "file"
[network]
network_backend = "cni"
network_config_dir = "${join(base, "net")}"
`,
    );
    env = { ...ENV, CONTAINERS_CONF: conf };
    global = [
      "--root",
      join(base, "root"),
      "--runroot",
      join(base, "runroot"),
      "--tmpdir",
      join(base, "tmp"),
      "--storage-driver",
      "vfs",
      "--cgroup-manager",
      "cgroupfs",
      "--events-backend",
      "file",
      "--runtime",
      RUNTIME,
    ];
    const tar = await run("tar", ["-C", rootfs, "-cf", join(base, "rootfs.tar"), "."]);
    expect(tar.code, tar.all).toBe(0);
    const imp = await podman([
      "import",
      "--change",
      "ENV=PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      join(base, "rootfs.tar"),
      IMAGE,
    ]);
    expect(imp.code, imp.all).toBe(0);
  }, T);

  /** Every container id podman had, so that runtime state left under their names can be found. */
  const ids = new Set<string>();
  const collectIds = async () => {
    for (const id of (await podman(["ps", "--all", "--quiet", "--no-trunc"])).stdout.split("\n"))
      if (id) ids.add(id);
  };

  afterEach(async () => {
    await collectIds();
    await podman(["rm", "--all", "--force", "--time", "0"], { timeout: 30_000 });
  }, T);

  afterAll(async () => {
    if (!base) return;
    await collectIds();
    const left = (await podman(["ps", "--all", "--quiet"])).stdout.trim();
    await podman(["rm", "--all", "--force", "--time", "0"], { timeout: 30_000 });
    await podman(["rmi", "--all", "--force"], { timeout: 30_000 });
    const { procs, mounts } = await sweep(base, `${cgroupParent}/`);
    const state = DEFAULT_ROOTS.flatMap((r) => stateEntries(r, (n) => ids.has(n)));
    removeState(state);
    const cgroups = cgroupsUnder(cgroupParent).filter((d) => /\/libpod-[0-9a-f]+$/.test(d));
    const busy = busyCgroupsUnder(cgroupParent);
    removeCgroups(cgroupParent);
    rmSync(base, { recursive: true, force: true });
    expect({ left, procs, mounts, state, cgroups, busy }).toEqual({
      left: "",
      procs: [],
      mounts: [],
      state: [],
      cgroups: [],
      busy: [],
    });
  }, T);

  it(
    "run --rm echo",
    async () => {
      const r = await podman(prun("--rm", IMAGE, "echo", "hi"));
      expect({ code: r.code, out: r.all }).toEqual({ code: 0, out: "hi\n" });
    },
    T,
  );

  it(
    "the runtime under test holds the container's state (it, not another runtime, ran it)",
    async () => {
      const d = await podman(prun("-d", "--name", "e2e-state", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const id = d.stdout.trim();
      const pid = Number((await podman(["inspect", "--format", "{{.State.Pid}}", id])).stdout.trim());
      // podman passes no --root: the runtime's default state dir is used.
      const st = await run(RUNTIME, ["state", id], { env: {} });
      expect(st.code, st.all).toBe(0);
      const state = JSON.parse(st.stdout);
      expect({ id: state.id, status: state.status, pid: state.pid }).toEqual({ id, status: "running", pid });
    },
    T,
  );

  it(
    "run returns the exit code, stdout and stderr apart",
    async () => {
      const r = await podman(prun("--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3"));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 3,
        stdout: "out\n",
        stderr: "err\n",
      });
    },
    T,
  );

  it(
    "run -i passes stdin through",
    async () => {
      const r = await podman(prun("--rm", "-i", IMAGE, "cat"), { input: "one\ntwo\n" });
      expect({ code: r.code, out: r.all }).toEqual({ code: 0, out: "one\ntwo\n" });
    },
    T,
  );

  it(
    "env, cwd, user and hostname",
    async () => {
      const s = await podman([
        ...prun("--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000", "--hostname", "box", IMAGE),
        "sh",
        "-c",
        'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname) $PATH"',
      ]);
      expect({ code: s.code, out: s.all }).toEqual({
        code: 0,
        out: "bar /tmp 1000:1000 box /usr/sbin:/usr/bin:/sbin:/bin\n",
      });
    },
    T,
  );

  it(
    "a missing binary exits 127",
    async () => {
      const r = await podman(prun("--rm", IMAGE, "/no/such/binary"));
      expect(r.code, r.all).toBe(127);
      expect(r.stderr).toMatch(/no such file or directory|executable file not found/);
    },
    T,
  );

  it(
    "a non-executable file exits 126",
    async () => {
      const r = await podman(prun("--rm", IMAGE, "/etc/not-executable"));
      expect(r.code, r.all).toBe(126);
      expect(r.stderr).toMatch(/permission denied/);
    },
    T,
  );

  it(
    "run -d, logs, stop (SIGTERM trapped), rm",
    async () => {
      const d = await podman(
        prun(
          "-d",
          "--name",
          "e2e-stop",
          IMAGE,
          "sh",
          "-c",
          "trap 'echo got-term; exit 0' TERM; echo started; while :; do sleep 0.1; done",
        ),
      );
      expect(d.code, d.all).toBe(0);
      let logs = "";
      for (let i = 0; i < 100 && !logs.includes("started"); i++, await sleep(100))
        logs = (await podman(["logs", "e2e-stop"])).stdout;
      expect(logs).toBe("started\n");
      const s = await podman(["stop", "--time", "10", "e2e-stop"]);
      expect(s.code, s.all).toBe(0);
      const i = await podman(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "e2e-stop"]);
      expect(i.stdout.trim()).toBe("exited 0");
      expect((await podman(["logs", "e2e-stop"])).stdout).toBe("started\ngot-term\n");
      const rm = await podman(["rm", "e2e-stop"]);
      expect(rm.code, rm.all).toBe(0);
    },
    T,
  );

  it(
    "stop escalates to SIGKILL when SIGTERM is ignored",
    async () => {
      const d = await podman(prun("-d", "--name", "e2e-stopkill", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const s = await podman(["stop", "--time", "1", "e2e-stopkill"]);
      expect(s.code, s.all).toBe(0);
      const i = await podman([
        "inspect",
        "--format",
        "{{.State.Status}} {{.State.ExitCode}}",
        "e2e-stopkill",
      ]);
      expect(i.stdout.trim()).toBe("exited 137");
    },
    T,
  );

  it(
    "kill, then rm -f of a running container",
    async () => {
      for (const name of ["e2e-kill", "e2e-rmf"]) {
        const d = await podman(prun("-d", "--name", name, IMAGE, "sleep", "1000"));
        expect(d.code, d.all).toBe(0);
      }
      const k = await podman(["kill", "e2e-kill"]);
      expect(k.code, k.all).toBe(0);
      const w = await podman(["wait", "e2e-kill"]);
      expect(w.stdout.trim()).toBe("137");
      const rm = await podman(["rm", "--force", "--time", "0", "e2e-rmf"]);
      expect(rm.code, rm.all).toBe(0);
      const ps = await podman(["ps", "--all", "--format", "{{.Names}}"]);
      expect(ps.stdout.trim()).toBe("e2e-kill");
    },
    T,
  );

  it(
    "init, then rm of a created container",
    async () => {
      const c = await podman([
        "create",
        "--cgroup-parent",
        cgroupParent,
        "--name",
        "e2e-init",
        IMAGE,
        "sleep",
        "1000",
      ]);
      expect(c.code, c.all).toBe(0);
      const i = await podman(["init", "e2e-init"]);
      expect(i.code, i.all).toBe(0);
      const st = await podman(["inspect", "--format", "{{.State.Status}}", "e2e-init"]);
      expect(st.stdout.trim()).toBe("initialized");
      const rm = await podman(["rm", "e2e-init"]);
      expect(rm.code, rm.all).toBe(0);
    },
    T,
  );

  it(
    "exec: exit code, stdin, user and cwd",
    async () => {
      const d = await podman(prun("-d", "--name", "e2e-exec", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const e = await podman(["exec", "e2e-exec", "sh", "-c", "echo exec-ok; exit 5"]);
      expect({ code: e.code, out: e.all }).toEqual({ code: 5, out: "exec-ok\n" });
      const i = await podman(["exec", "-i", "e2e-exec", "cat"], { input: "in-exec\n" });
      expect({ code: i.code, out: i.all }).toEqual({ code: 0, out: "in-exec\n" });
      const u = await podman([
        "exec",
        "-u",
        "1000",
        "-w",
        "/tmp",
        "e2e-exec",
        "sh",
        "-c",
        'echo "$(id -u) $(pwd)"',
      ]);
      expect({ code: u.code, out: u.all }).toEqual({ code: 0, out: "1000 /tmp\n" });
    },
    T,
  );

  it(
    "the container sees only fds 0-2 plus --preserve-fds",
    async () => {
      const r = await podman(prun("--rm", IMAGE, "sh", "-c", "cd /proc/$$/fd && echo fds: *"));
      // 3 is the directory the glob reads.
      expect({ code: r.code, out: r.all }).toEqual({ code: 0, out: "fds: 0 1 2 3\n" });
      const child = spawn(
        "podman",
        [
          ...global,
          ...prun(
            "--rm",
            "--preserve-fds",
            "1",
            IMAGE,
            "sh",
            "-c",
            "cd /proc/$$/fd && echo fds: *; echo via-fd3 >&3",
          ),
        ],
        {
          env,
          detached: true,
          stdio: ["pipe", "pipe", "pipe", "pipe"],
        },
      );
      const fd3: Buffer[] = [];
      (child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => fd3.push(d));
      const p = await collect(child);
      expect({ code: p.code, out: p.all }).toEqual({ code: 0, out: "fds: 0 1 2 3 4\n" });
      expect(Buffer.concat(fd3).toString()).toBe("via-fd3\n");
    },
    T,
  );

  it(
    "a 16 MiB memory limit ends in an OOM kill, exit 137",
    async () => {
      const r = await podman(
        prun(
          "--name",
          "e2e-oom",
          "--memory",
          "16m",
          "--memory-swap",
          "16m",
          IMAGE,
          "dd",
          "if=/dev/zero",
          "of=/dev/null",
          "bs=64M",
          "count=1",
        ),
      );
      expect(r.code, r.all).toBe(137);
      // .State.OOMKilled stays false here even with runc (conmon 2.1.6 on cgroup v1), so only the exit code counts.
      const i = await podman(["inspect", "--format", "{{.State.ExitCode}}", "e2e-oom"]);
      expect(i.stdout.trim()).toBe("137");
    },
    T,
  );

  it(
    "exec of a missing binary exits 127, of a non-executable file 126",
    async () => {
      const d = await podman(prun("-d", "--name", "e2e-execfail", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const m = await podman(["exec", "e2e-execfail", "/no/such/binary"]);
      expect(m.code, m.all).toBe(127);
      const n = await podman(["exec", "e2e-execfail", "/etc/not-executable"]);
      expect(n.code, n.all).toBe(126);
      const ok = await podman(["exec", "e2e-execfail", "echo", "still-here"]);
      expect({ code: ok.code, out: ok.all }).toEqual({ code: 0, out: "still-here\n" });
    },
    T,
  );

  it(
    "pause and unpause, exec after unpause",
    async () => {
      const d = await podman(prun("-d", "--name", "e2e-pause", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const p = await podman(["pause", "e2e-pause"]);
      expect(p.code, p.all).toBe(0);
      expect((await podman(["inspect", "--format", "{{.State.Status}}", "e2e-pause"])).stdout.trim()).toBe(
        "paused",
      );
      const u = await podman(["unpause", "e2e-pause"]);
      expect(u.code, u.all).toBe(0);
      const e = await podman(["exec", "e2e-pause", "echo", "unpaused"]);
      expect({ code: e.code, out: e.all }).toEqual({ code: 0, out: "unpaused\n" });
    },
    T,
  );

  it(
    "stats and top of a running container",
    async () => {
      const d = await podman(prun("-d", "--name", "e2e-stats", "--memory", "64m", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const st = await podman(["stats", "--no-stream", "--format", "{{.MemUsage}}", "e2e-stats"]);
      expect(st.code, st.all).toBe(0);
      expect(st.stdout).toMatch(/ \/ 67\.11MB$/m);
      const top = await podman(["top", "e2e-stats", "pid", "args"]);
      expect(top.code, top.all).toBe(0);
      expect(top.stdout).toMatch(/^1\s+sleep 1000\s*$/m);
    },
    T,
  );

  it(
    "run -dt (console socket, detached), logs, restart",
    async () => {
      const d = await podman(prun("-dt", "--name", "e2e-dt", IMAGE, "sh", "-c", "tty; echo up; sleep 1000"));
      expect(d.code, d.all).toBe(0);
      let logs = "";
      for (let i = 0; i < 100 && !logs.includes("up"); i++, await sleep(100))
        logs = (await podman(["logs", "e2e-dt"])).stdout;
      expect(logs).toMatch(/^\/dev\/pts\/0\r\nup\r\n$/);
      const r = await podman(["restart", "--time", "1", "e2e-dt"]);
      expect(r.code, r.all).toBe(0);
      expect((await podman(["inspect", "--format", "{{.State.Status}}", "e2e-dt"])).stdout.trim()).toBe(
        "running",
      );
    },
    T,
  );

  it(
    "stop with --pid host kills every process of the container",
    async () => {
      const d = await podman(
        prun("-d", "--pid", "host", "--name", "e2e-pidhost", IMAGE, "sh", "-c", "sleep 1001 & sleep 1002"),
      );
      expect(d.code, d.all).toBe(0);
      const s = await podman(["stop", "--time", "1", "e2e-pidhost"]);
      expect(s.code, s.all).toBe(0);
      await sleep(300);
      expect(processesUnder([], [`${cgroupParent}/libpod-`]).filter((l) => /sleep 100[12]/.test(l))).toEqual(
        [],
      );
    },
    T,
  );

  it(
    "podman's config: seccomp, rlimits, devices it does not list, cgroup mount, pids limit, bind mounts",
    async () => {
      const r = await podman([
        ...prun("--rm", "--hostname", "hn", IMAGE),
        "sh",
        "-c",
        `${FACTS}; echo "pids.max=$(cat /sys/fs/cgroup/pids/pids.max)"; touch /sys/fs/cgroup/pids/x 2>/dev/null || echo cgroup-ro; ` +
          'echo "hostname=$(cat /etc/hostname) $(hostname) containerenv=$(test -f /run/.containerenv && echo yes) hosts=$(grep -c hn /etc/hosts)"',
      ]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout).toBe(
        [
          "CapEff:\t00000000a80425fb",
          "CapBnd:\t00000000a80425fb",
          "NoNewPrivs:\t0",
          "Seccomp:\t2",
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
          "tmpfs on /sys/fs/cgroup type tmpfs",
          "pids.max=2048",
          "cgroup-ro",
          "hostname=hn hn containerenv=yes hosts=1",
          "",
        ].join("\n"),
      );
    },
    T,
  );

  it(
    "volumes, capabilities, sysctls, ulimits, shm size",
    async () => {
      const vol = join(base, "vol");
      mkdirSync(vol, { recursive: true });
      const r = await podman([
        ...prun("--rm", "-v", `${vol}:/data`, "--cap-drop", "ALL", "--cap-add", "NET_RAW"),
        ...["--sysctl", "net.ipv4.ip_forward=1", "--ulimit", "nofile=512:512", "--ulimit", "nproc=4096:4096"],
        ...["--shm-size", "8m", IMAGE],
        "sh",
        "-c",
        [
          "echo from-container > /data/f",
          'grep -E "^CapEff:" /proc/self/status',
          "cat /proc/sys/net/ipv4/ip_forward",
          "ulimit -n",
          "df -k /dev/shm | tail -1 | tr -s ' ' | cut -d' ' -f2",
        ].join("; "),
      ]);
      expect({ code: r.code, out: r.all }).toEqual({
        code: 0,
        out: "CapEff:\t0000000000002000\n1\n512\n8192\n",
      });
      expect(readFileSync(join(vol, "f"), "utf8")).toBe("from-container\n");
    },
    T,
  );

  it(
    "--tmpfs and --read-only (podman's tmpfs mounts carry tmpcopyup)",
    async () => {
      const r = await podman([
        ...prun("--rm", "--tmpfs", "/scratch", "--read-only", IMAGE),
        "sh",
        "-c",
        [
          "touch /scratch/ok && echo scratch-rw",
          "touch /tmp/ok && echo tmp-rw",
          "(touch /rootfile 2>/dev/null && echo root-rw) || echo root-ro",
        ].join("; "),
      ]);
      expect({ code: r.code, out: r.all }).toEqual({ code: 0, out: "scratch-rw\ntmp-rw\nroot-ro\n" });
    },
    T,
  );

  it(
    "--privileged: every capability, the host's devices, no seccomp",
    async () => {
      const r = await podman([
        ...prun("--rm", "--privileged", IMAGE),
        "sh",
        "-c",
        'grep -E "^(CapEff|Seccomp):" /proc/self/status; test -c /dev/loop-control && echo loop-control; test -c /dev/null && echo null',
      ]);
      const host = readFileSync("/proc/self/status", "utf8").match(/^CapBnd:\t(\w+)$/m)?.[1];
      expect({ code: r.code, out: r.all }).toEqual({
        code: 0,
        out: `CapEff:\t${host}\nSeccomp:\t0\n${existsSync("/dev/loop-control") ? "loop-control\n" : ""}null\n`,
      });
    },
    T,
  );

  it(
    "podman info shows the runtime's --version verbatim",
    async () => {
      const v = await run(RUNTIME, ["--version"], { env: {} });
      const i = await podman(["info", "--format", "{{.Host.OCIRuntime.Version}}"]);
      expect(i.code, i.all).toBe(0);
      expect(i.stdout.trim()).toBe(v.stdout.trim());
    },
    T,
  );

  // One podman option each, with what the container must see. Run with runc first to pin the expectations.
  const hostNs = (ns: string) => readlinkSync(`/proc/self/ns/${ns}`);
  const OPTIONS: [string, () => string[], string, () => string][] = [
    [
      "--device with a new name",
      () => ["--device", "/dev/null:/dev/mynull"],
      "test -c /dev/mynull && echo x > /dev/mynull && echo ok",
      () => "ok",
    ],
    [
      "read-only bind volume",
      () => ["-v", `${base}:/data:ro`],
      "touch /data/x 2>/dev/null || echo ro",
      () => "ro",
    ],
    [
      "--security-opt no-new-privileges",
      () => ["--security-opt", "no-new-privileges"],
      "grep NoNewPrivs /proc/self/status",
      () => "NoNewPrivs:\t1",
    ],
    [
      "--security-opt seccomp=unconfined",
      () => ["--security-opt", "seccomp=unconfined"],
      "grep Seccomp: /proc/self/status",
      () => "Seccomp:\t0",
    ],
    [
      "--security-opt unmask=ALL",
      () => ["--security-opt", "unmask=ALL"],
      "test $(wc -c < /proc/timer_list) -gt 0 && echo unmasked",
      () => "unmasked",
    ],
    ["--cpus", () => ["--cpus", "0.5"], "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us", () => "50000"],
    ["--cpuset-cpus", () => ["--cpuset-cpus", "0"], "cat /sys/fs/cgroup/cpuset/cpuset.cpus", () => "0"],
    ["--pids-limit", () => ["--pids-limit", "100"], "cat /sys/fs/cgroup/pids/pids.max", () => "100"],
    [
      "--memory",
      () => ["--memory", "64m"],
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
      () => String(64 << 20),
    ],
    ["--oom-score-adj", () => ["--oom-score-adj", "100"], "cat /proc/self/oom_score_adj", () => "100"],
    ["--ipc host", () => ["--ipc", "host"], "readlink /proc/self/ns/ipc", () => hostNs("ipc")],
    ["--uts host", () => ["--uts", "host"], "hostname", () => hostname()],
    ["--network host", () => ["--network", "host"], "readlink /proc/self/ns/net", () => hostNs("net")],
    [
      "--cgroupns private",
      () => ["--cgroupns", "private"],
      "grep :memory: /proc/self/cgroup",
      () => "4:memory:/",
    ],
    ["--group-add", () => ["--group-add", "1234"], "id -G", () => "0 1234"],
    ["--umask", () => ["--umask", "0077"], "umask", () => "0077"],
    [
      "--uidmap/--gidmap (user namespace)",
      () => ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"],
      "cat /proc/self/uid_map | tr -s ' '",
      () => " 0 100000 65536",
    ],
    [
      "--sysctl in the ipc namespace",
      () => ["--sysctl", "kernel.msgmax=65536"],
      "cat /proc/sys/kernel/msgmax",
      () => "65536",
    ],
    [
      "--cap-add SYS_ADMIN: mount inside",
      () => ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined"],
      "mount -t tmpfs t /tmp && echo mounted",
      () => "mounted",
    ],
    ["--init (catatonit as pid 1)", () => ["--init"], "cat /proc/1/comm", () => "podman-init"],
    [
      "--read-only --read-only-tmpfs=false",
      () => ["--read-only", "--read-only-tmpfs=false"],
      "touch /tmp/x 2>/dev/null || echo ro",
      () => "ro",
    ],
    [
      "--tmpfs with notmpcopyup",
      () => ["--tmpfs", "/scratch:rw,notmpcopyup"],
      "touch /scratch/x && echo rw",
      () => "rw",
    ],
    ["-t without -i", () => ["-t"], "tty", () => "/dev/pts/0\r"],
  ];
  it.each(OPTIONS)(
    "option: %s",
    async (_name, args, cmd, expected) => {
      const r = await podman([...prun("--rm", ...args(), IMAGE), "sh", "-c", cmd]);
      expect({ code: r.code, out: r.all }).toEqual({ code: 0, out: `${expected()}\n` });
    },
    T,
  );

  it(
    "named runc, the runtime gets --log-format=json --log and podman reads its errors from there",
    async () => {
      // podman passes --log only to runtimes whose file name it knows (runc, crun, ...): as if tsrun replaced runc.
      const dir = join(base, "as-runc");
      mkdirSync(dir, { recursive: true });
      const named = join(dir, "runc");
      if (!existsSync(named)) symlinkSync(RUNTIME, named);
      const as = (args: string[]) =>
        run("podman", [...global.slice(0, -2), "--runtime", named, ...args], { env, timeout: 30_000 });
      const ok = await as(prun("--rm", IMAGE, "echo", "hi"));
      expect({ code: ok.code, out: ok.all }).toEqual({ code: 0, out: "hi\n" });
      const missing = await as(prun("--rm", IMAGE, "/no/such/binary"));
      expect(missing.code, missing.all).toBe(127);
      expect(missing.stderr).toMatch(/no such file or directory|executable file not found/);
      const noexec = await as(prun("--rm", IMAGE, "/etc/not-executable"));
      expect(noexec.code, noexec.all).toBe(126);
      expect(noexec.stderr).toMatch(/permission denied/);
      const d = await as(prun("-d", "--name", "e2e-asrunc", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const e = await as(["exec", "e2e-asrunc", "/no/such/binary"]);
      expect(e.code, e.all).toBe(127);
      const stop = await as(["stop", "--time", "1", "e2e-asrunc"]);
      expect(stop.code, stop.all).toBe(0);
    },
    T,
  );

  it(
    "run -it inside a terminal: size, input, exit code",
    async () => {
      const r = await runInPty(
        30,
        100,
        [...pcmd(), ...prun("--rm", "-it", IMAGE, "sh", "-c", `${WAIT_SIZE}; read x; echo "got:$x"; exit 5`)],
        { sends: [["size=", "abc\r"]], env },
      );
      expect(r.stdout, `exit ${r.code}: ${JSON.stringify(r.all)}`).toMatch(/size=30 100\r*\n/);
      expect(r.stdout).toContain("got:abc");
      expect(r.code, r.all).toBe(5);
    },
    T,
  );

  it(
    "exec -it inside a terminal",
    async () => {
      const d = await podman(prun("-d", "--name", "e2e-execit", IMAGE, "sleep", "1000"));
      expect(d.code, d.all).toBe(0);
      const r = await runInPty(
        25,
        90,
        [
          ...pcmd(),
          "exec",
          "-it",
          "e2e-execit",
          "sh",
          "-c",
          `${WAIT_SIZE}; tty; read x; echo "got:$x"; exit 4`,
        ],
        { sends: [["size=", "xyz\r"]], env },
      );
      expect(r.stdout, `exit ${r.code}: ${JSON.stringify(r.all)}`).toMatch(/size=25 90\r*\n/);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(r.stdout).toContain("got:xyz");
      expect(r.code, r.all).toBe(4);
    },
    T,
  );
});
