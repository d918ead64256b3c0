// tsrun-exec against real namespaces, mounts and ptys: hand-built plans, the protocol spoken as the lifecycle will.
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { op, type Plan } from "../../packages/libcontainer/src/plan.js";
import {
  bindRootfs,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  makedev,
  mountProc,
  ENV as PATH_ENV,
  runPlan,
  S_IFCHR,
  useScratch,
} from "./harness.js";
import { close, O_CLOEXEC, O_PATH, open, readAll, recvFd, socketpair } from "./libc.js";

const CAP_CHOWN = 0;
const CAP_KILL = 5;
const CAP_NET_BIND_SERVICE = 10;

const ENV = [...PATH_ENV, "HOME=/root"];

const scratch = useScratch("tsrun-exec-", "rootfs");

/** The rootfs part of a plan: private propagation, the rootfs bound on itself, proc, a tmpfs /dev, pivot. */
function rootfsOps(opts: { devices: boolean; devpts?: boolean }): Plan {
  const { rootfs } = scratch;
  const plan: Plan = [...bindRootfs(rootfs), mountProc(rootfs)];
  if (opts.devices) {
    plan.push(
      op.mount("tmpfs", `${rootfs}/dev`, "tmpfs", MS_NOSUID, "mode=755,size=65536k"),
      op.mknod(`${rootfs}/dev/null`, S_IFCHR | 0o666, makedev(1, 3), 0, 0),
      op.mknod(`${rootfs}/dev/zero`, S_IFCHR | 0o666, makedev(1, 5), 0, 0),
      op.symlink("/proc/self/fd", `${rootfs}/dev/fd`),
    );
  }
  if (opts.devpts) {
    plan.push(
      op.mkdirAll(`${rootfs}/dev/pts`, 0o755),
      op.mount(
        "devpts",
        `${rootfs}/dev/pts`,
        "devpts",
        MS_NOSUID | MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=620",
      ),
    );
  }
  plan.push(op.pivotRoot(rootfs));
  return plan;
}

const NAMESPACES = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET;

function statusField(pid: number, field: string): string | undefined {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

describe("tsrun-exec", () => {
  it("starts a container as pid 1 of new namespaces with its hostname, devices and capabilities", async () => {
    // An fd we pass beyond 0-3 must not reach the container (the executor marks everything from 3 close-on-exec).
    const leak = openSync("/dev/null", "r");
    const caps = (1n << BigInt(CAP_CHOWN)) | (1n << BigInt(CAP_KILL)) | (1n << BigInt(CAP_NET_BIND_SERVICE));
    const plan: Plan = [
      op.clone(NAMESPACES),
      op.initBegin(),
      op.sync("ready"),
      op.setsid(),
      ...rootfsOps({ devices: true }),
      op.sethostname("tsrun-box"),
      op.loopbackUp(),
      op.capBounding(caps),
      op.caps(caps, caps, caps, 0n),
      op.chdir("/"),
      op.exec(
        "/bin/sh",
        [
          "sh",
          "-c",
          "echo $$; hostname; grep CapEff /proc/self/status; ls /proc/self/fd | tr '\\n' ' '; echo; ls -l /dev/null; ip link show lo | head -1",
        ],
        ENV,
      ),
    ];
    let ppid: string | undefined;
    let comm: string | undefined;
    const r = await runPlan(plan, {
      extraFds: [leak],
      onSync: (_label, pid) => {
        // The init is waiting for our answer, so its /proc entry is there to read.
        ppid = statusField(pid!, "PPid");
        comm = statusField(pid!, "Name");
        return Buffer.alloc(0);
      },
    });
    closeSync(leak);
    expect(r.errors).toEqual([]);
    expect(r.stage0).toBe(0);
    expect(r.syncs).toEqual(["ready"]);
    expect(ppid).toBe(String(process.pid));
    expect(comm).toBe("tsrun:[1:INIT]");
    expect(r.init).toEqual({ code: 0, signal: null });
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("1");
    expect(lines[1]).toBe("tsrun-box");
    expect(lines[2]).toMatch(/^CapEff:\s+0000000000000421$/);
    expect(lines[3]?.trim()).toBe("0 1 2 3");
    expect(lines[4]).toMatch(/^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/null$/);
    expect(lines[5]).toMatch(/<LOOPBACK,UP/);
  });

  it("reports a failed mount with the op, the object and the errno text, and the init exits 1", async () => {
    const { rootfs } = scratch;
    const plan: Plan = [
      op.clone(CLONE_NEWNS | CLONE_NEWPID),
      op.initBegin(),
      op.mount("", "/", "", MS_REC | MS_PRIVATE, ""),
      op.mount("proc", `${rootfs}/no/such/dir`, "proc", 0, ""),
      op.exec("/bin/true", ["true"], ENV),
    ];
    const r = await runPlan(plan);
    expect(r.stage0).toBe(0);
    expect(r.errors).toEqual([`mount proc on ${rootfs}/no/such/dir: No such file or directory`]);
    expect(r.init).toEqual({ code: 1, signal: null });
  });

  it("reports a failed pivot_root with the path", async () => {
    const { rootfs } = scratch;
    // On a mount of its own but not its root: pivot_root refuses with EINVAL.
    const plan: Plan = [
      op.clone(CLONE_NEWNS),
      op.initBegin(),
      ...bindRootfs(rootfs),
      op.pivotRoot(`${rootfs}/etc`),
    ];
    const r = await runPlan(plan);
    expect(r.errors).toEqual([`pivot_root ${rootfs}/etc: Invalid argument`]);
    expect(r.init?.code).toBe(1);
  });

  it("reports a missing binary with runc's texts and status 127, by path and by PATH lookup", async () => {
    const cases = [
      ["/bin/nope", 'exec: "/bin/nope": stat /bin/nope: no such file or directory'],
      ["nope", 'exec: "nope": executable file not found in $PATH'],
    ];
    for (const [path, text] of cases as [string, string][]) {
      for (const lookup of [true, false]) {
        const plan: Plan = [
          op.clone(CLONE_NEWNS | CLONE_NEWPID),
          op.initBegin(),
          ...rootfsOps({ devices: false }),
          ...(lookup ? [op.lookup(path, ENV)] : []),
          op.exec(path, [path], ENV),
        ];
        const r = await runPlan(plan);
        expect(r.errors).toEqual([text]);
        expect(r.init).toEqual({ code: 127, signal: null });
      }
    }
  });

  it("lets OP_EXEC use what OP_LOOKUP resolved", async () => {
    const plan: Plan = [
      op.clone(CLONE_NEWNS | CLONE_NEWPID),
      op.initBegin(),
      ...rootfsOps({ devices: false }),
      op.lookup("true", ENV),
      op.exec("true", ["true"], ENV),
    ];
    const r = await runPlan(plan);
    expect(r.errors).toEqual([]);
    expect(r.init).toEqual({ code: 0, signal: null });
  });

  it("reports a file without execute permission as 'permission denied' with status 126", async () => {
    const plan: Plan = [
      op.clone(CLONE_NEWNS | CLONE_NEWPID),
      op.initBegin(),
      ...rootfsOps({ devices: false }),
      op.exec("/etc/passwd", ["passwd"], ENV),
    ];
    const r = await runPlan(plan);
    expect(r.errors).toEqual(['exec: "/etc/passwd": permission denied']);
    expect(r.init?.code).toBe(126);
  });

  it("maps root of a user namespace to 100000 with maps written by stage 0", async () => {
    const plan: Plan = [
      op.clone(CLONE_NEWUSER | NAMESPACES),
      op.setgroups("deny"),
      op.uidmap("0 100000 65536\n"),
      op.gidmap("0 100000 65536\n"),
      op.initBegin(),
      op.setidRoot(),
      op.sync("root"),
      ...rootfsOps({ devices: false }),
      op.sethostname("userns"),
      op.exec("/bin/sh", ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map; hostname"], ENV),
    ];
    let hostUid: string | undefined;
    const r = await runPlan(plan, {
      onSync: (_label, pid) => {
        hostUid = statusField(pid!, "Uid");
        return Buffer.alloc(0);
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.init).toEqual({ code: 0, signal: null });
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("0");
    expect(lines[1]).toBe("0");
    expect(lines[2]!.trim().split(/\s+/)).toEqual(["0", "100000", "65536"]);
    expect(lines[3]).toBe("userns");
    // Root inside is 100000 outside, for real, uid by uid.
    expect(hostUid?.split(/\s+/)).toEqual(["100000", "100000", "100000", "100000"]);
  });

  it("reports a bad uid map from stage 0, and the init it cloned does not linger", async () => {
    const plan: Plan = [
      op.clone(CLONE_NEWUSER | CLONE_NEWNS),
      op.uidmap("0 100000 65536\n0 100000 65536\n"), // overlapping ranges: EINVAL
      op.initBegin(),
      op.exec("/bin/true", ["true"], ENV),
    ];
    const r = await runPlan(plan);
    expect(r.errors).toEqual([`uid_map: write /proc/${r.pid}/uid_map: Invalid argument`]);
    expect(r.stage0).toBe(1);
    // FRAME_PID came first, so we could reap the init stage 0 killed.
    expect(r.init).toEqual({ code: null, signal: 9 });
  });

  it("sends the pty master over _TSRUN_CONSOLE and makes the slave the container's terminal", async () => {
    const [mine, theirs] = socketpair();
    const plan: Plan = [
      op.clone(NAMESPACES),
      op.initBegin(),
      op.setsid(),
      ...rootfsOps({ devices: true, devpts: true }),
      op.console("/dev/pts/ptmx", 30, 100, true),
      op.exec(
        "/bin/sh",
        [
          "sh",
          "-c",
          "tty; stty size; ls -l /dev/console | grep -c '136,'; echo $(ls /proc/self/fd); echo done",
        ],
        ENV,
      ),
    ];
    let master = -1;
    let name = "";
    const r = await runPlan(plan, {
      extraFds: [theirs],
      env: { _TSRUN_CONSOLE: "4" },
      onSpawn: () => close(theirs),
    });
    // The executor sent the master before exec; the message waits in our socket.
    const msg = recvFd(mine);
    close(mine);
    expect(msg.fds).toHaveLength(1);
    master = msg.fds[0]!;
    name = msg.payload;
    const output = readAll(master);
    close(master);
    expect(r.errors).toEqual([]);
    expect(r.init).toEqual({ code: 0, signal: null });
    expect(name).toBe("/dev/pts/0");
    expect(r.stdout).toBe(""); // everything went to the terminal
    // The console socket and the master are gone; only the terminal on 0-2 (and ls's own dir fd) remain.
    expect(output.split("\r\n").slice(0, 5)).toEqual(["/dev/pts/0", "30 100", "1", "0 1 2 3", "done"]);
  });

  it("blocks in OP_FIFO_WAIT until the fifo is opened for reading", async () => {
    const fifo = join(scratch.top, "exec.fifo");
    execFileSync("mkfifo", ["-m", "0622", fifo]);
    const pathFd = open(fifo, O_PATH | O_CLOEXEC);
    const plan: Plan = [op.fifoWait(), op.exec("/bin/busybox", ["echo", "started"], ENV)];
    let exited = false;
    const run = runPlan(plan, { extraFds: [pathFd], env: { _TSRUN_FIFOFD: "4" } }).then((r) => {
      exited = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(exited).toBe(false);
    const rd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const r = await run;
    const buf = Buffer.alloc(4);
    const n = readSync(rd, buf);
    closeSync(rd);
    close(pathFd);
    expect(buf.subarray(0, n).toString()).toBe("0");
    expect(r.errors).toEqual([]);
    expect(r.stage0).toBe(0);
    expect(r.stdout).toBe("started\n");
  });

  it("binds read-only with a remount, applies propagation-only ops, masks and write-protects paths", async () => {
    const { rootfs } = scratch;
    const data = join(scratch.top, "data");
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, "hello"), "from the host\n");
    const plan: Plan = [
      op.clone(NAMESPACES),
      op.initBegin(),
      ...bindRootfs(rootfs),
      op.mkdirAll(`${rootfs}/mnt/data/deep`, 0o755),
      op.mount(data, `${rootfs}/mnt/data/deep`, "", MS_BIND | MS_RDONLY | MS_NOSUID, ""),
      op.mount("", `${rootfs}/mnt/data/deep`, "", MS_SHARED, ""),
      op.mount("proc", `${rootfs}/proc`, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""),
      op.mount("tmpfs", `${rootfs}/dev`, "tmpfs", MS_NOSUID, "mode=755"),
      op.mknod(`${rootfs}/dev/null`, S_IFCHR | 0o666, makedev(1, 3), 0, 0),
      op.pivotRoot(rootfs),
      op.writeFile("/proc/sys/net/ipv4/ip_forward", "1"),
      op.readonlyPath("/proc/sys"),
      op.maskPath("/proc/version"),
      op.maskPath("/proc/sys/fs"),
      op.maskPath("/proc/no-such-path"),
      op.mount("", "/", "", MS_BIND | MS_REMOUNT | MS_RDONLY, ""), // a read-only rootfs, as runc does it
      op.exec(
        "/bin/sh",
        [
          "sh",
          "-c",
          [
            "cat /mnt/data/deep/hello",
            "touch /mnt/data/deep/x 2>&1",
            "grep ' /mnt/data/deep ' /proc/self/mountinfo",
            "cat /proc/sys/net/ipv4/ip_forward",
            "echo x 2>&1 > /proc/sys/kernel/hostname",
            "wc -c < /proc/version",
            "ls /proc/sys/fs | wc -l",
            "touch /etc/x 2>&1",
          ].join("; "),
        ],
        ENV,
      ),
    ];
    const r = await runPlan(plan);
    expect(r.errors).toEqual([]);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("from the host");
    expect(lines[1]).toMatch(/Read-only file system/);
    expect(lines[2]).toMatch(/ \/mnt\/data\/deep ro,nosuid.* shared:\d+/);
    expect(lines[3]).toBe("1");
    expect(lines[4]).toMatch(/can't create \/proc\/sys\/kernel\/hostname: Read-only file system/);
    expect(lines[5]?.trim()).toBe("0");
    expect(lines[6]?.trim()).toBe("0");
    expect(lines[7]).toMatch(/touch: \/etc\/x: Read-only file system/);
  });

  it("switches to an unprivileged user keeping the planned capabilities, limits and umask", async () => {
    const bind = 1n << BigInt(CAP_NET_BIND_SERVICE);
    const plan: Plan = [
      op.clone(CLONE_NEWNS | CLONE_NEWPID),
      op.initBegin(),
      ...rootfsOps({ devices: false }),
      op.rlimit(7, 1024n, 2048n), // RLIMIT_NOFILE
      op.umask(0o027),
      op.noNewPrivs(),
      op.capBounding(bind),
      op.setuser(1000, 1000, [10, 1000]),
      op.caps(bind, bind, bind, bind),
      op.exec(
        "sh",
        ["sh", "-c", "id; grep -E 'Cap(Eff|Amb)|NoNewPrivs' /proc/self/status; ulimit -n; ulimit -Hn; umask"],
        ENV,
      ),
    ];
    const r = await runPlan(plan);
    expect(r.errors).toEqual([]);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("uid=1000(user) gid=1000(user) groups=10,1000(user)");
    expect(lines.slice(1, 4).map((l) => l.replace(/\s+/g, " "))).toEqual([
      "CapEff: 0000000000000400",
      "CapAmb: 0000000000000400",
      "NoNewPrivs: 1",
    ]);
    expect(lines.slice(4)).toEqual(["1024", "2048", "0027"]);
  });

  it("runs hooks with the state from FRAME_OK on stdin and reports their failures", async () => {
    const out = join(scratch.top, "hook-stdin");
    const state = '{"ociVersion":"1.2.0","id":"x","pid":42}';
    const hook = (label: string, script: string, timeout = 0) =>
      op.hook(label, "/bin/sh", timeout, ["sh", "-c", script], ["PATH=/bin:/usr/bin"]);
    // No clone: stage 0 runs every op itself (the shape exec will have).
    const ok = await runPlan([op.sync("state"), hook("createContainer", `cat > ${out}`)], {
      onSync: () => Buffer.from(state),
    });
    expect(ok.errors).toEqual([]);
    expect(ok.stage0).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(state);

    const status = await runPlan([hook("startContainer", "exit 3")]);
    expect(status.errors).toEqual(["startContainer hook /bin/sh: exit status 3"]);
    expect(status.stage0).toBe(1);
    const signal = await runPlan([hook("startContainer", "kill -TERM $$")]);
    expect(signal.errors).toEqual(["startContainer hook /bin/sh: killed by signal 15"]);
    const slow = await runPlan([hook("createContainer", "sleep 5", 1)]);
    expect(slow.errors).toEqual(["createContainer hook /bin/sh: timed out after 1s"]);
  });

  it("exits quietly when tsrun answers FRAME_SYNC with FRAME_ABORT", async () => {
    const plan: Plan = [
      op.clone(CLONE_NEWNS),
      op.initBegin(),
      op.sync("ready"),
      op.exec("/bin/true", ["true"], ENV),
    ];
    const r = await runPlan(plan, { onSync: () => "abort" });
    expect(r.syncs).toEqual(["ready"]);
    expect(r.errors).toEqual([]);
    expect(r.init).toEqual({ code: 1, signal: null });
  });

  it("switches root with --no-pivot's move and chroot", async () => {
    const { rootfs } = scratch;
    const plan: Plan = [
      op.clone(CLONE_NEWNS | CLONE_NEWPID),
      op.initBegin(),
      ...bindRootfs(rootfs),
      op.mount("proc", `${rootfs}/proc`, "proc", 0, ""),
      op.moveRoot(rootfs),
      op.exec("/bin/sh", ["sh", "-c", "cat /etc/hostname; echo $$; ls /proc/1/root/bin/busybox"], ENV),
    ];
    const r = await runPlan(plan);
    expect(r.errors).toEqual([]);
    expect(r.stdout).toBe("tsrun-test\n1\n/proc/1/root/bin/busybox\n");
  });

  it("joins another container's namespaces in stage 0 and passes oom_score_adj to the init", async () => {
    let joined: Awaited<ReturnType<typeof runPlan>> | undefined;
    const holder: Plan = [
      op.clone(CLONE_NEWUTS),
      op.initBegin(),
      op.sethostname("joined"),
      op.sync("hold"),
      op.exec("/bin/true", ["true"], ENV),
    ];
    const r = await runPlan(holder, {
      onSync: async (_label, pid) => {
        joined = await runPlan([
          op.setns(`/proc/${pid}/ns/uts`, CLONE_NEWUTS),
          op.oomScoreAdj(500),
          op.clone(CLONE_NEWNS),
          op.initBegin(),
          op.exec("/bin/sh", ["sh", "-c", "hostname; cat /proc/self/oom_score_adj"], ENV),
        ]);
        return Buffer.alloc(0);
      },
    });
    expect(r.errors).toEqual([]);
    expect(joined?.errors).toEqual([]);
    expect(joined?.stdout).toBe("joined\n500\n");
  });

  it("refuses clone flags in the exit-signal byte (CLONE_NEWTIME needs an unshare)", async () => {
    const r = await runPlan([op.clone(0x80), op.initBegin(), op.exec("/bin/true", ["true"], ENV)]);
    expect(r.errors).toEqual(["clone flags 0x80: Invalid argument"]);
    expect(r.pid).toBeUndefined();
  });

  it("refuses a plan whose stages make no sense before running any op", async () => {
    const r = await runPlan([op.uidmap("0 0 1\n"), op.exec("/bin/true", ["true"], ENV)]);
    expect(r.errors).toEqual(["plan: uid_map needs the cloned child (between clone and init_begin)"]);
    expect(r.stage0).toBe(1);
    expect(r.pid).toBeUndefined();
    const early = await runPlan([
      op.mount("tmpfs", scratch.top, "tmpfs", 0, ""),
      op.clone(CLONE_NEWNS),
      op.initBegin(),
    ]);
    expect(early.errors).toEqual(["plan: mount cannot run before clone"]);
  });

  it("logs each op as FRAME_LOG with _TSRUN_LOGLEVEL=debug", async () => {
    const r = await runPlan([op.clone(CLONE_NEWNS), op.initBegin(), op.exec("/bin/true", ["true"], ENV)], {
      env: { _TSRUN_LOGLEVEL: "debug" },
    });
    expect(r.logs).toEqual(["op clone (0)", "op init_begin (1)", "op exec (2)"]);
    expect(r.init?.code).toBe(0);
  });

  it("leaves no mount behind on the host", () => {
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(scratch.top);
  });
});
