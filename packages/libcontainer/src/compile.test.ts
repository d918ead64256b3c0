import { describe, expect, it } from "vitest";
import { type CompileContext, compilePlan } from "./compile.js";
import { hostCgroupLayout } from "./compile-cgroup.js";
import { makedev } from "./compile-devices.js";
import { defaultSpec } from "./default-spec.js";
import { ConfigError } from "./errors.js";
import type { HostFacts } from "./host-facts.js";
import {
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SLAVE,
  MS_STRICTATIME,
} from "./mount-options.js";
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
} from "./namespaces.js";
import { type Op, OpCode, type Plan } from "./plan.js";
import type { Spec } from "./spec.js";
import { containerdSpec, podmanSpec, testHost } from "./test-specs.js";

const R = "/b/rootfs";

const host: HostFacts = testHost({
  pathKind: (p) => (p.startsWith("/missing") ? "missing" : /\.(conf|txt)$|\/hosts$/.test(p) ? "file" : "dir"),
  readText: (p) =>
    p === `${R}/etc/passwd` ? "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n" : undefined,
});

const ctx = (over: Partial<CompileContext> = {}): CompileContext => ({
  bundle: "/b",
  rootfs: R,
  noPivot: false,
  consoleSocket: false,
  fifo: true,
  preserveFds: 0,
  host,
  ...over,
});

const names = (plan: Plan): string[] => plan.map((o) => OpCode[o.code]);
const find = (plan: Plan, code: OpCode, ...args: unknown[]): number =>
  plan.findIndex((o) => o.code === code && args.every((a, i) => o.args[i] === a));
const ops = (plan: Plan, code: OpCode): Op[] => plan.filter((o) => o.code === code);
const mountAt = (plan: Plan, target: string): Op[] =>
  ops(plan, OpCode.Mount).filter((o) => o.args[1] === target);
const big = (n: number) => BigInt(n);

const runcDefault = (): Spec => defaultSpec({ terminal: false });

describe("compilePlan: runc's default spec", () => {
  const plan = compilePlan(runcDefault(), ctx());

  it("runs the ops in runc's order", () => {
    const seq = names(plan).filter(
      (n, i, a) =>
        n !== a[i - 1] || !["Mount", "MkdirAll", "Mknod", "Symlink", "ReadonlyPath", "MaskPath"].includes(n),
    );
    expect(seq).toEqual([
      "Clone",
      "InitBegin",
      "Pdeathsig",
      "Setsid",
      "LoopbackUp",
      "Sync",
      "Mount", // / rslave, rootfs bind
      "Root", // targets resolved inside the rootfs from here on
      "MkdirAll", // then the spec mounts
      "Mount",
      "MkdirAll",
      "Mount",
      "MkdirAll",
      "Mount",
      "MkdirAll",
      "Mount",
      "MkdirAll",
      "Mount",
      "MkdirAll",
      "Mount",
      "MkdirAll",
      "Mount",
      "Umask",
      "MkdirAll",
      "Mknod",
      "Symlink",
      "PivotRoot",
      "Chdir",
      "MkdirAll", // the cwd
      "Mount", // read-only root
      "Umask",
      "Sethostname",
      "ReadonlyPath",
      "MaskPath",
      "Rlimit",
      "NoNewPrivs",
      "Sync",
      "Pdeathsig",
      "CloseFrom",
      "CapBounding",
      "Setuser",
      "Chdir",
      "Caps",
      "Lookup",
      "StdioBlocking",
      "FifoWait",
      "Exec",
    ]);
    expect(ops(plan, OpCode.Sync).map((o) => o.args[0])).toEqual(["cgroups", "ready"]);
  });

  it("clones the five namespaces, with no setns and no id maps", () => {
    expect(plan[0]?.args).toEqual([
      big(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS),
    ]);
    expect(ops(plan, OpCode.Setns)).toEqual([]);
    expect(ops(plan, OpCode.Uidmap)).toEqual([]);
    expect(ops(plan, OpCode.SetidRoot)).toEqual([]);
    expect(plan[2]?.args).toEqual([9n]);
  });

  it("makes / rslave and binds the rootfs on itself first", () => {
    const i = find(plan, OpCode.Sync, "cgroups");
    expect(plan[i + 1]?.args).toEqual(["", "/", "", big(MS_SLAVE | MS_REC), ""]);
    expect(plan[i + 2]?.args).toEqual([R, R, "", big(MS_BIND | MS_REC), ""]);
  });

  it("mounts each spec mount under the rootfs with runc's flags and data", () => {
    // runc's spec gives proc no options, and runc mounts it with none (its mountinfo shows rw,relatime).
    expect(mountAt(plan, `${R}/proc`).map((o) => o.args)).toEqual([["proc", `${R}/proc`, "proc", 0n, ""]]);
    expect(mountAt(plan, `${R}/dev`).map((o) => o.args)).toEqual([
      ["tmpfs", `${R}/dev`, "tmpfs", big(MS_NOSUID | MS_STRICTATIME), "mode=755,size=65536k"],
    ]);
    expect(mountAt(plan, `${R}/dev/pts`).map((o) => o.args)).toEqual([
      [
        "devpts",
        `${R}/dev/pts`,
        "devpts",
        big(MS_NOSUID | MS_NOEXEC),
        "newinstance,ptmxmode=0666,mode=0620,gid=5",
      ],
    ]);
    expect(mountAt(plan, `${R}/dev/shm`)[0]?.args).toEqual([
      "shm",
      `${R}/dev/shm`,
      "tmpfs",
      big(MS_NOSUID | MS_NOEXEC | MS_NODEV),
      "mode=1777,size=65536k",
    ]);
    expect(mountAt(plan, `${R}/dev/mqueue`)[0]?.args[3]).toBe(big(MS_NOSUID | MS_NOEXEC | MS_NODEV));
    expect(mountAt(plan, `${R}/sys`)[0]?.args).toEqual([
      "sysfs",
      `${R}/sys`,
      "sysfs",
      big(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY),
      "",
    ]);
    expect(mountAt(plan, `${R}/sys/fs/cgroup`)[0]?.args).toEqual([
      "cgroup",
      `${R}/sys/fs/cgroup`,
      "cgroup2",
      big(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY),
      "",
    ]);
    // Each target directory is made just before its mount.
    const p = find(plan, OpCode.Mount, "proc");
    expect(plan[p - 1]?.args).toEqual([`${R}/proc`, 0o755n]);
  });

  it("creates runc's default devices and links with exact modes", () => {
    expect(ops(plan, OpCode.Mknod).map((o) => o.args)).toEqual([
      [`${R}/dev/null`, big(0o20666), makedev(1, 3), 0n, 0n],
      [`${R}/dev/random`, big(0o20666), makedev(1, 8), 0n, 0n],
      [`${R}/dev/full`, big(0o20666), makedev(1, 7), 0n, 0n],
      [`${R}/dev/tty`, big(0o20666), makedev(5, 0), 0n, 0n],
      [`${R}/dev/zero`, big(0o20666), makedev(1, 5), 0n, 0n],
      [`${R}/dev/urandom`, big(0o20666), makedev(1, 9), 0n, 0n],
    ]);
    expect(plan[find(plan, OpCode.Mknod) - 2]?.args).toEqual([0n]); // umask(0) first
    expect(ops(plan, OpCode.Symlink).map((o) => o.args)).toEqual([
      ["pts/ptmx", `${R}/dev/ptmx`],
      ["/proc/self/fd", `${R}/dev/fd`],
      ["/proc/self/fd/0", `${R}/dev/stdin`],
      ["/proc/self/fd/1", `${R}/dev/stdout`],
      ["/proc/self/fd/2", `${R}/dev/stderr`],
    ]);
  });

  it("pivots before the hostname, masks and readonly paths, and drops privileges after ready", () => {
    const pivot = find(plan, OpCode.PivotRoot, R);
    expect(pivot).toBeGreaterThan(find(plan, OpCode.Symlink, "/proc/self/fd/2"));
    expect(plan[pivot + 1]?.args).toEqual(["/"]);
    expect(plan[pivot + 2]?.args).toEqual(["/", 0o755n]);
    expect(plan[pivot + 3]?.args).toEqual(["", "/", "", big(MS_BIND | MS_REMOUNT | MS_RDONLY), ""]);
    expect(find(plan, OpCode.Sethostname, "runc")).toBeGreaterThan(pivot);
    expect(ops(plan, OpCode.ReadonlyPath).map((o) => o.args[0])).toEqual(runcDefault().linux?.readonlyPaths);
    expect(ops(plan, OpCode.MaskPath).map((o) => o.args[0])).toEqual(runcDefault().linux?.maskedPaths);
    expect(ops(plan, OpCode.Umask).at(-1)?.args).toEqual([0o22n]);
    expect(ops(plan, OpCode.Rlimit).map((o) => o.args)).toEqual([[7n, 1024n, 1024n]]);
    const ready = find(plan, OpCode.Sync, "ready");
    expect(find(plan, OpCode.NoNewPrivs)).toBe(ready - 1);
    expect(plan[ready + 1]?.args).toEqual([0n]);
    expect(plan[ready + 2]?.args).toEqual([3n]);
  });

  it("sets runc's capabilities, with no ambient ones as runc ends up", () => {
    const caps = 0x20000420n; // CAP_KILL(5) | CAP_NET_BIND_SERVICE(10) | CAP_AUDIT_WRITE(29)
    expect(ops(plan, OpCode.CapBounding)[0]?.args).toEqual([caps]);
    expect(ops(plan, OpCode.Setuser)[0]?.args).toEqual([0n, 0n, 0n]);
    expect(ops(plan, OpCode.Caps)[0]?.args).toEqual([caps, caps, 0n, 0n]);
  });

  it("looks the program up as the container user, before the fifo wait", () => {
    const i = find(plan, OpCode.Lookup);
    expect(plan[i]?.args).toEqual([
      "sh",
      3n,
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm",
      "HOME=/root",
    ]);
    expect(i).toBe(find(plan, OpCode.Caps) + 1);
    expect(i).toBeLessThan(find(plan, OpCode.FifoWait));
  });

  it("ends with the fifo wait and exec of args with env", () => {
    expect(plan.at(-2)?.code).toBe(OpCode.FifoWait);
    expect(plan.at(-1)?.args).toEqual([
      "sh",
      1n,
      "sh",
      3n,
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm",
      "HOME=/root",
    ]);
  });

  it("sets HOME from the image's passwd only when env has none, as runc's setupUser", () => {
    const env = (edit: (s: Spec) => void) => {
      const spec = defaultSpec();
      edit(spec);
      return compilePlan(spec, ctx()).at(-1)?.args.slice(4) ?? [];
    };
    expect(env((s) => void s.process!.env!.push("HOME=/x"))).toContain("HOME=/x");
    expect(
      env((s) => void s.process!.env!.push("HOME=/x")).filter((e) => String(e).startsWith("HOME=")),
    ).toHaveLength(1);
    const asUser = (uid: number) => (s: Spec) => {
      s.process!.user = { uid, gid: uid };
    };
    expect(env(asUser(1000))).toContain("HOME=/home/u");
    expect(env(asUser(7))).toContain("HOME=/");
    // A passwd bound over the image's is the one read.
    const seen: string[] = [];
    const spec = defaultSpec();
    spec.mounts!.push({ destination: "/etc/passwd", type: "bind", source: "pw.txt", options: ["bind"] });
    compilePlan(spec, ctx({ host: { ...host, readText: (p) => void seen.push(p) } }));
    expect(seen).toEqual(["/b/pw.txt"]);
  });
});

describe("compilePlan: variants", () => {
  it("omits the fifo wait for run, and keeps preserved fds open", () => {
    const plan = compilePlan(runcDefault(), ctx({ fifo: false, preserveFds: 2 }));
    expect(ops(plan, OpCode.FifoWait)).toEqual([]);
    expect(ops(plan, OpCode.CloseFrom)[0]?.args).toEqual([5n]);
  });

  it("moves the root instead of pivoting with noPivot", () => {
    const plan = compilePlan(runcDefault(), ctx({ noPivot: true }));
    expect(ops(plan, OpCode.PivotRoot)).toEqual([]);
    const i = find(plan, OpCode.MoveRoot, R);
    expect(i).toBeGreaterThan(0);
    expect(plan[i + 1]?.args).toEqual(["/"]);
  });

  it("leaves the root writable without root.readonly", () => {
    const spec = runcDefault();
    spec.root = { path: "rootfs" };
    const plan = compilePlan(spec, ctx());
    expect(mountAt(plan, "/")).toHaveLength(1); // only the rslave change
  });

  it("opens the console after pivot_root and before the read-only remounts", () => {
    const spec = defaultSpec();
    spec.process!.consoleSize = { height: 24, width: 80 };
    const plan = compilePlan(spec, ctx({ consoleSocket: true }));
    const i = find(plan, OpCode.Console);
    expect(plan[i]?.args).toEqual(["/dev/pts/ptmx", 24n, 80n, 1n]);
    expect(names(plan).slice(i - 2, i + 3)).toEqual(["PivotRoot", "Chdir", "Console", "MkdirAll", "Mount"]);
    expect(ops(compilePlan(spec, ctx()), OpCode.Console)).toEqual([]);
  });

  it("joins namespaces with a path in stage 0, user first, and clones only the others", () => {
    const spec = runcDefault();
    spec.linux!.namespaces = [
      { type: "pid" },
      { type: "network", path: "/var/run/netns/x" },
      { type: "ipc", path: "/proc/7/ns/ipc" },
      { type: "uts" },
      { type: "mount" },
      { type: "user", path: "/proc/7/ns/user" },
    ];
    spec.process!.oomScoreAdj = -500;
    const plan = compilePlan(spec, ctx());
    expect(plan.slice(0, 5).map((o) => [OpCode[o.code], ...o.args])).toEqual([
      ["Setns", "/proc/7/ns/user", big(CLONE_NEWUSER)],
      ["Setns", "/proc/7/ns/ipc", big(CLONE_NEWIPC)],
      ["Setns", "/var/run/netns/x", big(CLONE_NEWNET)],
      ["OomScoreAdj", "-500"],
      ["Clone", big(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS)],
    ]);
    expect(ops(plan, OpCode.Uidmap)).toEqual([]);
    expect(ops(plan, OpCode.LoopbackUp)).toEqual([]); // the joined network namespace is configured already
    expect(ops(plan, OpCode.SetidRoot)).toHaveLength(1);
  });

  it("writes id maps from stage 0 and binds devices in a new user namespace", () => {
    const spec = runcDefault();
    spec.linux!.namespaces!.push({ type: "user" });
    spec.linux!.uidMappings = [
      { containerID: 0, hostID: 100000, size: 65536 },
      { containerID: 65536, hostID: 5000, size: 1 },
    ];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const plan = compilePlan(spec, ctx());
    expect(names(plan).slice(0, 6)).toEqual([
      "Clone",
      "Uidmap",
      "Gidmap",
      "InitBegin",
      "Pdeathsig",
      "Setsid",
    ]);
    expect(plan[0]?.args[0]).toBe(
      big(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWUSER),
    );
    expect(plan[1]?.args).toEqual(["0 100000 65536\n65536 5000 1\n"]);
    expect(plan[2]?.args).toEqual(["0 100000 65536\n"]);
    expect(names(plan)[6]).toBe("SetidRoot");
    expect(ops(plan, OpCode.Setgroups)).toEqual([]); // root on the host: runc writes no "deny"
    expect(ops(plan, OpCode.Mknod)).toEqual([]);
    expect(mountAt(plan, `${R}/dev/null`).map((o) => o.args)).toEqual([
      ["/dev/null", `${R}/dev/null`, "", big(MS_BIND), ""],
    ]);
    expect(plan[find(plan, OpCode.Touch, `${R}/dev/null`)]?.args).toEqual([`${R}/dev/null`, 0o666n]);
  });

  it("denies setgroups only for a rootless single mapping of the caller's gid, as runc", () => {
    const spec = defaultSpec({ rootless: true, uid: 1000, gid: 1000 });
    const rootless = { ...host, rootlessEuid: true, egid: 1000 };
    const plan = compilePlan(spec, ctx({ host: rootless }));
    expect(names(plan).slice(0, 4)).toEqual(["Clone", "Setgroups", "Uidmap", "Gidmap"]);
    expect(plan[1]?.args).toEqual(["deny"]);
    expect(ops(compilePlan(spec, ctx({ host: { ...rootless, egid: 5 } })), OpCode.Setgroups)).toEqual([]);
    expect(ops(compilePlan(spec, ctx()), OpCode.Setgroups)).toEqual([]);
  });

  it("keeps destinations inside the rootfs", () => {
    const spec = runcDefault();
    spec.mounts!.push({ destination: "/../../etc/", type: "tmpfs", source: "tmpfs" });
    spec.mounts!.push({ destination: "/a/./b/../c", type: "tmpfs", source: "tmpfs" });
    const plan = compilePlan(spec, ctx());
    expect(mountAt(plan, `${R}/etc`)).toHaveLength(1);
    expect(mountAt(plan, `${R}/a/c`)).toHaveLength(1);
    for (const o of [...ops(plan, OpCode.Mount), ...ops(plan, OpCode.MkdirAll)]) {
      const target = String(o.code === OpCode.Mount ? o.args[1] : o.args[0]);
      expect(target === "/" || target.startsWith(`${R}/`) || target === R).toBe(true);
    }
  });

  it("bind-mounts files and directories, remounting for flags and applying propagation", () => {
    const spec = runcDefault();
    spec.mounts!.push(
      { destination: "/etc/hosts", type: "bind", source: "/etc/hosts", options: ["rbind", "ro", "rprivate"] },
      { destination: "/data", type: "none", source: "data", options: ["bind"] },
    );
    const plan = compilePlan(spec, ctx());
    const hosts = `${R}/etc/hosts`;
    const i = find(plan, OpCode.Touch, hosts);
    expect(plan.slice(i - 1, i + 4).map((o) => [OpCode[o.code], ...o.args])).toEqual([
      ["MkdirAll", `${R}/etc`, 0o755n],
      ["Touch", hosts, 0o755n],
      ["Mount", "/etc/hosts", hosts, "", big(MS_BIND | MS_REC | MS_RDONLY), ""],
      ["Mount", "", hosts, "", big(MS_BIND | MS_REC | MS_RDONLY | MS_REMOUNT), ""],
      ["Mount", "", hosts, "", big(0x40000 | MS_REC), ""],
    ]);
    // A relative source is the bundle's; a plain bind needs no remount.
    expect(mountAt(plan, `${R}/data`).map((o) => o.args)).toEqual([
      ["/b/data", `${R}/data`, "", big(MS_BIND), ""],
    ]);
    expect(find(plan, OpCode.MkdirAll, `${R}/data`)).toBeGreaterThan(0);
  });

  it("refuses a bind source that does not exist", () => {
    const spec = runcDefault();
    spec.mounts!.push({ destination: "/x", type: "bind", source: "/missing/x" });
    expect(() => compilePlan(spec, ctx())).toThrow(
      new ConfigError("mounts[7].source", "/missing/x: no such file or directory"),
    );
  });

  it("mounts a read-only tmpfs writable and makes it read-only after pivot_root", () => {
    const spec = runcDefault();
    spec.mounts!.push({ destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "ro"] });
    const plan = compilePlan(spec, ctx());
    expect(mountAt(plan, `${R}/run`)[0]?.args[3]).toBe(big(MS_NOSUID));
    const remount = find(plan, OpCode.Mount, "", "/run");
    expect(plan[remount]?.args).toEqual(["", "/run", "", big(MS_NOSUID | MS_RDONLY | MS_REMOUNT), ""]);
    expect(remount).toBeGreaterThan(find(plan, OpCode.PivotRoot));
  });

  it("copies up a tmpcopyup tmpfs with its own op, writable until the end when it is read-only", () => {
    const spec = runcDefault();
    spec.mounts!.push({
      destination: "/etc",
      type: "tmpfs",
      source: "tmpfs",
      options: ["rw", "tmpcopyup", "nosuid", "ro", "size=1m"],
    });
    const plan = compilePlan(spec, ctx());
    expect(mountAt(plan, `${R}/etc`)).toEqual([]);
    const copy = ops(plan, OpCode.MountCopyup);
    expect(copy.map((o) => o.args)).toEqual([["tmpfs", `${R}/etc`, "tmpfs", big(MS_NOSUID), "size=1m"]]);
    const at = plan.indexOf(copy[0] as Op);
    expect(at).toBeGreaterThan(find(plan, OpCode.Root, R));
    expect(plan[at - 1]?.args).toEqual([`${R}/etc`, 0o755n]); // mkdir -p first
    const remount = find(plan, OpCode.Mount, "", "/etc");
    expect(plan[remount]?.args).toEqual(["", "/etc", "", big(MS_NOSUID | MS_RDONLY | MS_REMOUNT), ""]);
    // No copyup without the option.
    expect(ops(compilePlan(runcDefault(), ctx()), OpCode.MountCopyup)).toEqual([]);
  });

  it("resolves paths below a copied-up tmpfs through the image's links, as its content is the image's", () => {
    const spec = runcDefault();
    spec.mounts!.push(
      { destination: "/data", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"] },
      { destination: "/data/link/x", type: "tmpfs", source: "tmpfs" },
    );
    const readlink = (p: string) => (p === `${R}/data/link` ? "/real" : null);
    const plan = compilePlan(spec, ctx({ host: { ...host, readlink } }));
    expect(mountAt(plan, `${R}/real/x`)).toHaveLength(1);
  });

  it("creates no devices when /dev is a bind mount", () => {
    const spec = runcDefault();
    spec.mounts![1] = { destination: "/dev", type: "bind", source: "/dev", options: ["rbind"] };
    const plan = compilePlan(spec, ctx());
    expect(ops(plan, OpCode.Mknod)).toEqual([]);
    expect(ops(plan, OpCode.Symlink)).toEqual([]);
  });

  it("adds linux.devices after the defaults, a spec device replacing a default one", () => {
    const spec = runcDefault();
    spec.linux!.devices = [
      { path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o600, uid: 5, gid: 6 },
      { path: "/dev/sda", type: "b", major: 8, minor: 0 },
      { path: "/dev/net/tun", type: "c", major: 10, minor: 200, fileMode: 0o20666 },
      { path: "/dev/kmsg2", type: "c", major: 300, minor: 70000 },
    ];
    const nodes = ops(compilePlan(spec, ctx({ host: { ...host, kcore: true } })), OpCode.Mknod).map(
      (o) => o.args,
    );
    expect(nodes.map((a) => a[0])).toEqual(
      ["random", "full", "tty", "zero", "urandom", "null", "sda", "net/tun", "kmsg2"].map(
        (d) => `${R}/dev/${d}`,
      ),
    );
    expect(nodes[5]).toEqual([`${R}/dev/null`, big(0o20600), 259n, 5n, 6n]);
    expect(nodes[6]).toEqual([`${R}/dev/sda`, big(0o60666), 0x800n, 0n, 0n]);
    expect(nodes[7]?.[1]).toBe(big(0o20666));
    expect(nodes[8]?.[2]).toBe(makedev(300, 70000));
    expect(makedev(300, 70000)).toBe(
      (0n << 32n) | (300n << 8n) | ((70000n & ~0xffn) << 12n) | (70000n & 0xffn),
    );
  });

  it("links /dev/core only when the host has /proc/kcore", () => {
    const plan = compilePlan(runcDefault(), ctx({ host: { ...host, kcore: true } }));
    expect(find(plan, OpCode.Symlink, "/proc/kcore", `${R}/dev/core`)).toBeGreaterThan(0);
  });

  it("gives a v1 host a tmpfs with read-only binds of the container's cgroups", () => {
    const mountinfo = [
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    ].join("\n");
    const layout = hostCgroupLayout(mountinfo, "/default/c1");
    expect(layout).toEqual({
      version: 1,
      hierarchies: [
        { name: "cpu,cpuacct", source: "/sys/fs/cgroup/cpu,cpuacct/default/c1", data: "cpu,cpuacct" },
        { name: "memory", source: "/sys/fs/cgroup/memory/default/c1", data: "memory" },
        { name: "systemd", source: "/sys/fs/cgroup/systemd/default/c1", data: "xattr,name=systemd" },
      ],
    });
    const cg = `${R}/sys/fs/cgroup`;
    const ro = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY;
    const plan = compilePlan(runcDefault(), ctx({ host: { ...host, cgroup: layout } }));
    expect(mountAt(plan, cg).map((o) => o.args)).toEqual([
      ["tmpfs", cg, "tmpfs", big(MS_NOSUID | MS_NOEXEC | MS_NODEV), "mode=755"],
    ]);
    expect(mountAt(plan, `${cg}/memory`).map((o) => o.args)).toEqual([
      ["/sys/fs/cgroup/memory/default/c1", `${cg}/memory`, "", big(MS_BIND | MS_REC | ro), ""],
      ["", `${cg}/memory`, "", big(MS_BIND | MS_REC | ro | MS_REMOUNT), ""],
    ]);
    expect(
      ops(plan, OpCode.Symlink)
        .slice(0, 2)
        .map((o) => o.args),
    ).toEqual([
      ["cpu,cpuacct", `${cg}/cpu`],
      ["cpu,cpuacct", `${cg}/cpuacct`],
    ]);
    expect(hostCgroupLayout("29 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate", "/x")).toEqual({
      version: 2,
    });
  });

  it("mounts v1 hierarchies afresh in a private cgroup namespace", () => {
    const spec = runcDefault();
    spec.linux!.namespaces!.push({ type: "cgroup" });
    const layout = {
      version: 1 as const,
      hierarchies: [{ name: "systemd", source: "/s", data: "name=systemd" }],
    };
    const plan = compilePlan(spec, ctx({ host: { ...host, cgroup: layout } }));
    expect(mountAt(plan, `${R}/sys/fs/cgroup/systemd`).map((o) => o.args)).toEqual([
      [
        "cgroup",
        `${R}/sys/fs/cgroup/systemd`,
        "cgroup",
        big(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY),
        "name=systemd",
      ],
    ]);
  });

  it("makes the cgroup namespace after the cgroups sync, not in the clone, so its root is the container's", () => {
    const spec = runcDefault();
    spec.linux!.namespaces!.push({ type: "cgroup" });
    spec.linux!.cgroupsPath = "/tsrun/c1";
    const plan = compilePlan(spec, ctx());
    const flags = ops(plan, OpCode.Clone)[0]?.args[0] as bigint;
    expect(flags & big(CLONE_NEWCGROUP)).toBe(0n);
    expect(flags).toBe(big(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS));
    const sync = find(plan, OpCode.Sync, "cgroups");
    expect(plan[sync + 1]).toEqual({ code: OpCode.Unshare, args: [big(CLONE_NEWCGROUP)] });
    expect(ops(plan, OpCode.Unshare)).toHaveLength(1);
    // Before any mount: a cgroup filesystem mounted afterwards is rooted at the container's cgroup.
    expect(sync + 1).toBeLessThan(plan.findIndex((o) => o.code === OpCode.Mount));
  });

  it("unshares nothing without a new cgroup namespace, and joins an existing one in stage 0", () => {
    expect(ops(compilePlan(runcDefault(), ctx()), OpCode.Unshare)).toEqual([]);
    const spec = runcDefault();
    spec.linux!.namespaces!.push({ type: "cgroup", path: "/proc/1/ns/cgroup" });
    const plan = compilePlan(spec, ctx());
    expect(ops(plan, OpCode.Unshare)).toEqual([]);
    expect(plan[find(plan, OpCode.Setns, "/proc/1/ns/cgroup")]?.args[1]).toBe(big(CLONE_NEWCGROUP));
    expect(find(plan, OpCode.Setns, "/proc/1/ns/cgroup")).toBeLessThan(find(plan, OpCode.Clone));
  });

  it("runs hooks at the right points", () => {
    const spec = runcDefault();
    spec.hooks = {
      prestart: [{ path: "/bin/pre" }],
      createContainer: [{ path: "/bin/cc", args: ["cc", "-x"], env: ["A=1"], timeout: 3 }],
      startContainer: [{ path: "/bin/sc" }],
      poststart: [{ path: "/bin/post" }],
    };
    const plan = compilePlan(spec, ctx());
    expect(ops(plan, OpCode.Sync).map((o) => o.args[0])).toEqual([
      "cgroups",
      "create-runtime",
      "create-container",
      "ready",
    ]);
    const cr = find(plan, OpCode.Sync, "create-runtime");
    expect(cr).toBeGreaterThan(find(plan, OpCode.Symlink, "/proc/self/fd/2"));
    expect(plan.slice(cr + 1, cr + 5).map((o) => [OpCode[o.code], ...o.args])).toEqual([
      ["Sync", "create-container"],
      ["Chdir", R],
      ["Hook", "createContainer", "/bin/cc", 3n, 2n, "cc", "-x", 1n, "A=1"],
      ["PivotRoot", R],
    ]);
    expect(plan.slice(-3).map((o) => OpCode[o.code])).toEqual(["FifoWait", "Hook", "Exec"]);
    expect(plan.at(-2)?.args).toEqual(["startContainer", "/bin/sc", 0n, 1n, "/bin/sc", 0n]);
    expect(ops(plan, OpCode.Hook)).toHaveLength(2); // prestart and poststart are tsrun's
  });

  it("honours labels, hostname, domainname, sysctls, umask, user and rlimit numbers", () => {
    const spec = runcDefault();
    spec.domainname = "example.org";
    spec.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
    spec.process!.user = { uid: 1000, gid: 1000, umask: 0o077, additionalGids: [10, 20] };
    spec.process!.cwd = "/home/user";
    spec.process!.rlimits = [
      { type: "RLIMIT_CORE", soft: 0, hard: 2 ** 64 },
      { type: "RLIMIT_NPROC", soft: 100, hard: 200 },
      { type: "RLIMIT_RTTIME", soft: 1, hard: 1 },
    ];
    const plan = compilePlan(spec, ctx({ labels: { ready: "procReady" } }));
    expect(find(plan, OpCode.Sync, "procReady")).toBeGreaterThan(0);
    expect(find(plan, OpCode.Setdomainname, "example.org")).toBe(find(plan, OpCode.Sethostname, "runc") + 1);
    expect(find(plan, OpCode.WriteFile, "/proc/sys/net/ipv4/ip_forward", "1")).toBeGreaterThan(0);
    expect(ops(plan, OpCode.Umask).at(-1)?.args).toEqual([0o77n]);
    expect(ops(plan, OpCode.Setuser)[0]?.args).toEqual([1000n, 1000n, 2n, 10n, 20n]);
    expect(names(plan).slice(find(plan, OpCode.CapBounding), find(plan, OpCode.Caps) + 1)).toEqual([
      "CapBounding",
      "Setuser",
      "Chdir",
      "Caps",
    ]);
    expect(plan[find(plan, OpCode.Setuser) + 1]?.args).toEqual(["/home/user"]);
    expect(ops(plan, OpCode.Rlimit).map((o) => o.args)).toEqual([
      [4n, 0n, -1n],
      [6n, 100n, 200n],
      [15n, 1n, 1n],
    ]);
  });

  it("uses the rootfs propagation asked for", () => {
    const spec = runcDefault();
    spec.linux!.rootfsPropagation = "private";
    const plan = compilePlan(spec, ctx());
    expect(mountAt(plan, "/")[0]?.args).toEqual(["", "/", "", big(0x40000), ""]);
  });
});

describe("compilePlan: real clients' specs", () => {
  it("compiles containerd's, with the loopback up and /run a tmpfs", () => {
    const plan = compilePlan(containerdSpec(), ctx({ rootfs: "/r" }));
    expect(ops(plan, OpCode.LoopbackUp)).toHaveLength(1);
    expect(mountAt(plan, "/r/run")[0]?.args.slice(2)).toEqual([
      "tmpfs",
      big(MS_NOSUID | MS_STRICTATIME),
      "mode=755,size=65536k",
    ]);
    expect(mountAt(plan, "/r/proc")[0]?.args[3]).toBe(big(MS_NOSUID | MS_NOEXEC | MS_NODEV));
    expect(ops(plan, OpCode.Caps)[0]?.args[0]).toBe(0xa80425fbn); // docker's 14 default capabilities
    expect(ops(plan, OpCode.Sethostname)).toEqual([]);
    expect(plan.at(-1)?.args).toEqual(["sh", 1n, "sh", 1n, "HOME=/"]); // /r has no passwd here
  });

  it("compiles podman's (seccomp aside): file and directory binds, a private cgroup mount", () => {
    const spec = podmanSpec();
    delete spec.linux?.seccomp;
    const plan = compilePlan(spec, ctx({ rootfs: "/r", fifo: true, preserveFds: 1 }));
    const hosts = mountAt(plan, "/r/etc/hosts").map((o) => o.args);
    expect(hosts).toEqual([
      ["/run/containers/storage/vfs-containers/abc/userdata/hosts", "/r/etc/hosts", "", big(MS_BIND), ""],
      ["", "/r/etc/hosts", "", big(0x40000 | MS_REC), ""],
    ]);
    expect(find(plan, OpCode.Touch, "/r/etc/hosts")).toBeGreaterThan(0);
    expect(find(plan, OpCode.MkdirAll, "/r/dev/shm")).toBeGreaterThan(0);
    expect(mountAt(plan, "/r/sys/fs/cgroup").map((o) => o.args[2])).toEqual(["cgroup2", ""]);
    expect(find(plan, OpCode.WriteFile, "/proc/sys/net/ipv4/ping_group_range", "0 0")).toBeGreaterThan(0);
    expect(ops(plan, OpCode.OomScoreAdj)[0]?.args).toEqual(["0"]);
    expect(ops(plan, OpCode.CloseFrom)[0]?.args).toEqual([4n]);
    expect(ops(plan, OpCode.Rlimit).map((o) => o.args)).toEqual([
      [7n, 1048576n, 1048576n],
      [6n, 4194304n, 4194304n],
    ]);
  });
});

describe("compilePlan: hardening", () => {
  it("sets the resolution root on the rootfs right after its bind, before any spec mount", () => {
    const plan = compilePlan(runcDefault(), ctx());
    const root = find(plan, OpCode.Root, R);
    const bind = plan.findIndex((o) => o.code === OpCode.Mount && o.args[0] === R && o.args[1] === R);
    expect(root).toBe(bind + 1);
    const firstSpecMount = plan.findIndex((o, i) => i > root && o.code === OpCode.Mount);
    expect(firstSpecMount).toBeGreaterThan(root);
    expect(ops(plan, OpCode.Root)).toHaveLength(1);
  });

  it("writes the AppArmor profile as runc (attr/apparmor/exec when the kernel has it), after the hostname", () => {
    const spec = runcDefault();
    spec.hostname = "h";
    spec.process!.apparmorProfile = "tsrun-test";
    for (const [dir, path] of [
      [false, "/proc/self/attr/exec"],
      [true, "/proc/self/attr/apparmor/exec"],
    ] as const) {
      const plan = compilePlan(spec, ctx({ host: { ...host, apparmorAttrDir: dir } }));
      const at = find(plan, OpCode.WriteFile, path, "exec tsrun-test");
      expect(at).toBeGreaterThan(find(plan, OpCode.Sethostname, "h"));
      expect(at).toBeLessThan(plan.findIndex((o) => o.code === OpCode.MaskPath));
    }
  });

  it("refuses an SELinux label without SELinux (runc's message), sets it after ready with", () => {
    const spec = runcDefault();
    spec.process!.selinuxLabel = "system_u:system_r:container_t:s0";
    expect(() => compilePlan(spec, ctx())).toThrow(
      "config.json: process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported",
    );
    const plan = compilePlan(spec, ctx({ host: { ...host, selinux: true } }));
    const at = find(plan, OpCode.WriteFile, "/proc/self/attr/exec", "system_u:system_r:container_t:s0");
    expect(at).toBeGreaterThan(find(plan, OpCode.Sync, "ready"));
    expect(at).toBeLessThan(find(plan, OpCode.Exec));
  });

  it("appends the mount label as runc's FormatMountLabel, not to proc, sysfs, mqueue or binds", () => {
    const spec = runcDefault();
    spec.linux!.mountLabel = "system_u:object_r:container_file_t:s0";
    const plan = compilePlan(spec, ctx());
    const ctxOpt = 'context="system_u:object_r:container_file_t:s0"';
    expect(mountAt(plan, `${R}/dev`)[0]!.args[4]).toBe(`mode=755,size=65536k,${ctxOpt}`);
    expect(mountAt(plan, `${R}/dev/pts`)[0]!.args[4]).toMatch(new RegExp(`,${ctxOpt}$`));
    expect(mountAt(plan, `${R}/proc`)[0]!.args[4]).toBe("");
    expect(mountAt(plan, `${R}/sys`)[0]!.args[4]).toBe("");
    expect(mountAt(plan, `${R}/dev/mqueue`)[0]!.args[4]).toBe("");
    expect(ops(plan, OpCode.MaskPath)[0]!.args).toEqual(["/proc/acpi", ctxOpt]);
  });
});

describe("compilePlan: proc and sysfs on a link", () => {
  it("refuses a proc or sysfs destination that is a symlink or a file in the image, as runc", () => {
    const linked = { ...host, readlink: (p: string) => (p === `${R}/proc` ? "/etc" : null) };
    expect(() => compilePlan(runcDefault(), ctx({ host: linked }))).toThrow(
      'config.json: mounts[0]: filesystem "proc" must be mounted on ordinary directory',
    );
    const file = {
      ...host,
      pathKind: (p: string) => (p === `${R}/sys` ? ("file" as const) : host.pathKind(p)),
    };
    expect(() => compilePlan(runcDefault(), ctx({ host: file }))).toThrow(
      /mounts\[\d+\]: filesystem "sysfs" must be mounted on ordinary directory/,
    );
  });
});

describe("session keyring", () => {
  it("joins a keyring of the container's own first thing in the init, made searchable for exec", () => {
    const plan = compilePlan(runcDefault(), ctx({ sessionKeyring: "_ses.c1" }));
    const at = plan.findIndex((o) => o.code === OpCode.SessionKeyring);
    expect(plan[at]).toEqual({ code: OpCode.SessionKeyring, args: ["_ses.c1", 1n] });
    expect(at).toBeGreaterThan(plan.findIndex((o) => o.code === OpCode.Setsid));
    expect(at).toBeLessThan(plan.findIndex((o) => o.code === OpCode.Mount));
  });

  it("keeps the caller's keyring without a name (--no-new-keyring)", () => {
    expect(ops(compilePlan(runcDefault(), ctx()), OpCode.SessionKeyring)).toEqual([]);
  });
});
