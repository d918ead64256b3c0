// tsrun-exec's own defences, which do not trust the plan's paths: OP_ROOT resolution (symlinks in the image or
// swapped in, magic links), masks over symlinks and a fake /dev/null, the ptmx/slave/console checks, and the
// cwd check. Each test builds the hostile rootfs and shows the op refuses or stays inside.
import { spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { op, type Plan } from "../../packages/libcontainer/src/plan.js";
import {
  bindRootfs,
  CLONE_NEWNS,
  CLONE_NEWPID,
  ENV,
  inRoot,
  MS_BIND,
  MS_NOEXEC,
  MS_NOSUID,
  makedev,
  mountProc,
  runPlan,
  S_IFCHR,
  useScratch,
} from "./harness.js";
import { close, O_CLOEXEC, open, socketpair } from "./libc.js";

const O_DIRECTORY = 0o200000;

const scratch = useScratch("tsrun-inroot-");
/** A fresh copy of the busybox rootfs, for one test to make hostile. */
const freshRootfs = scratch.fresh;

/** Private propagation, the rootfs bound on itself, the resolution root, proc and a tmpfs /dev with null. */
function setup(rootfs: string, extra: Plan = []): Plan {
  return [
    ...inRoot(rootfs),
    op.mount("tmpfs", `${rootfs}/dev`, "tmpfs", MS_NOSUID, "mode=755"),
    op.mknod(`${rootfs}/dev/null`, S_IFCHR | 0o666, makedev(1, 3), 0, 0),
    ...extra,
  ];
}

const sh = (script: string) => op.exec("/bin/sh", ["sh", "-c", script], ENV);

describe("tsrun-exec: targets resolved inside the root (OP_ROOT)", () => {
  it("follows image symlinks to / and ../.. inside the rootfs, never onto the host", async () => {
    const rootfs = freshRootfs("links");
    const probe = `tsrun-probe-${process.pid}`;
    // /etc -> / makes <rootfs>/etc/<probe> the host's /<probe> for a host-side walk; "up" climbs out with "..".
    rmSync(join(rootfs, "etc"), { recursive: true });
    symlinkSync("/", join(rootfs, "etc"));
    symlinkSync("../../../../../../../../tmp", join(rootfs, "up"));
    mkdirSync(join(rootfs, "tmp"), { recursive: true });
    const r = await runPlan([
      ...setup(rootfs),
      op.mkdirAll(`${rootfs}/etc/${probe}/a`, 0o755),
      op.mount("tmpfs", `${rootfs}/etc/${probe}/a`, "tmpfs", 0, ""),
      op.mkdirAll(`${rootfs}/up/${probe}`, 0o755),
      op.touch(`${rootfs}/up/${probe}/file`, 0o644),
      op.symlink("/x", `${rootfs}/up/${probe}/link`),
      op.mknod(`${rootfs}/up/${probe}/null`, S_IFCHR | 0o666, makedev(1, 3), 0, 0),
      op.mount("tmpfs", `${rootfs}/up/${probe}`, "tmpfs", 0, ""),
      op.pivotRoot(rootfs),
      sh(`grep -c " /${probe}/a \\| /tmp/${probe} " /proc/self/mountinfo`),
    ]);
    expect(r.errors).toEqual([]);
    expect(r.stdout.trim()).toBe("2");
    expect(existsSync(`/${probe}`)).toBe(false);
    expect(existsSync(`/tmp/${probe}`)).toBe(false);
    expect(existsSync(join(rootfs, probe, "a"))).toBe(true);
    expect(lstatSync(join(rootfs, "tmp", probe, "link")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(rootfs, "tmp", probe, "null")).isCharacterDevice()).toBe(true);
    expect(existsSync(join(rootfs, "tmp", probe, "file"))).toBe(true);
  });

  it("refuses a target outside the root, and one through a magic link", async () => {
    const rootfs = freshRootfs("outside");
    const outside = await runPlan([...setup(rootfs), op.mkdirAll("/tmp/tsrun-outside", 0o755), sh("true")]);
    expect(outside.errors).toEqual([`plan: /tmp/tsrun-outside is outside the root ${rootfs}`]);
    expect(outside.init?.code).toBe(1);
    expect(existsSync("/tmp/tsrun-outside")).toBe(false);
    // /proc/1/root is the host's / from the host's procfs (still mounted before pivot_root).
    const magic = await runPlan([
      ...setup(rootfs),
      op.pivotRoot(rootfs),
      op.readonlyPath("/proc/1/root/etc"),
      sh("true"),
    ]);
    expect(magic.errors).toEqual([
      "mount /proc/1/root/etc on /proc/1/root/etc: open: Too many levels of symbolic links",
    ]);
  });

  it("masks a symlink itself, not the file it points to", async () => {
    const rootfs = freshRootfs("masklink");
    writeFileSync(join(rootfs, "etc/secret"), "secret\n");
    writeFileSync(join(rootfs, "etc/keep"), "keep\n");
    symlinkSync("/etc/keep", join(rootfs, "etc/secret-link"));
    mkdirSync(join(rootfs, "etc/dir"));
    symlinkSync("/etc/dir", join(rootfs, "etc/dir-link"));
    const r = await runPlan([
      ...setup(rootfs),
      op.pivotRoot(rootfs),
      op.maskPath("/etc/secret"),
      op.maskPath("/etc/secret-link"),
      op.maskPath("/etc/dir-link"),
      sh("cat /etc/secret /etc/secret-link; cat /etc/keep; touch /etc/dir/ok && echo dir-writable"),
    ]);
    expect(r.errors).toEqual([]);
    expect(r.stdout).toBe("keep\ndir-writable\n");
  });

  it("refuses to mask with a /dev/null that is not the null device (CVE-2025-31133)", async () => {
    const rootfs = freshRootfs("fakenull");
    writeFileSync(join(rootfs, "etc/secret"), "secret\n");
    const r = await runPlan([
      op.clone(CLONE_NEWNS | CLONE_NEWPID),
      op.initBegin(),
      ...bindRootfs(rootfs),
      op.root(rootfs),
      op.mount("tmpfs", `${rootfs}/dev`, "tmpfs", MS_NOSUID, "mode=755"),
      op.symlink("/etc/passwd", `${rootfs}/dev/null`),
      op.pivotRoot(rootfs),
      op.maskPath("/etc/secret"),
      sh("true"),
    ]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^mask: \/dev\/null is not the null device/);
  });
});

describe("tsrun-exec: OP_ROOT against a process racing the setup (CVE-2021-30465)", () => {
  it("never creates outside while a directory of the rootfs is swapped with a symlink to the host", async () => {
    const rootfs = join(scratch.top, "race-rootfs");
    const outside = join(scratch.top, "race-outside");
    mkdirSync(join(rootfs, "data"), { recursive: true });
    mkdirSync(outside);
    symlinkSync(outside, join(rootfs, "data.link"));
    // renameat2(RENAME_EXCHANGE): data is a directory one instant and a link to the host dir the next.
    const racer = spawn(
      "python3",
      [
        "-c",
        "import ctypes, os, sys\nlibc = ctypes.CDLL(None)\nos.chdir(sys.argv[1])\n" +
          "while True: libc.renameat2(-100, b'data', -100, b'data.link', 2)",
        rootfs,
      ],
      { stdio: "ignore" },
    );
    const attempt = (i: number, rooted: boolean) =>
      runPlan([
        op.clone(CLONE_NEWNS),
        op.initBegin(),
        ...bindRootfs(rootfs),
        ...(rooted ? [op.root(rootfs)] : []),
        op.mkdirAll(`${rootfs}/data/m${i}/deep`, 0o755),
        op.exec("/bin/true", ["true"], ENV),
      ]);
    try {
      // The control: without a resolution root the race does reach the host side (it shows the racer works).
      let escaped = false;
      for (let i = 0; i < 300 && !escaped; i++) {
        await attempt(i, false);
        escaped = readdirSync(outside).length > 0;
      }
      expect(escaped).toBe(true);
      rmSync(outside, { recursive: true });
      mkdirSync(outside);
      for (let i = 0; i < 60; i++) {
        await attempt(i, true);
        expect(readdirSync(outside)).toEqual([]);
      }
    } finally {
      racer.kill("SIGKILL");
    }
  }, 120000);
});

describe("tsrun-exec: the console's ptmx, slave and /dev/console are checked (CVE-2025-52565)", () => {
  const devpts = (rootfs: string) => [
    op.mkdirAll(`${rootfs}/dev/pts`, 0o755),
    op.mount("devpts", `${rootfs}/dev/pts`, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666"),
  ];

  async function consoleRun(plan: Plan) {
    const [mine, theirs] = socketpair();
    const r = await runPlan(plan, {
      extraFds: [theirs],
      env: { _TSRUN_CONSOLE: "4" },
      onSpawn: () => close(theirs),
    });
    close(mine);
    return r;
  }

  it("refuses a ptmx that is /dev/null bound over devpts' ptmx", async () => {
    const rootfs = freshRootfs("fakeptmx");
    const r = await consoleRun([
      ...setup(rootfs, devpts(rootfs)),
      op.mount(`${rootfs}/dev/null`, `${rootfs}/dev/pts/ptmx`, "", MS_BIND, ""),
      op.pivotRoot(rootfs),
      op.setsid(),
      op.console("/dev/pts/ptmx", 0, 0, true),
      sh("true"),
    ]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^console: \/dev\/pts\/ptmx is not a devpts ptmx \(fs 0x1021994, inode \d+, device 1:3\)/,
    );
  });

  it("refuses a ptmx that is a symlink, and a /dev/console that is a symlink", async () => {
    const rootfs = freshRootfs("linkptmx");
    const link = await consoleRun([
      ...setup(rootfs, devpts(rootfs)),
      op.symlink("/dev/pts/ptmx", `${rootfs}/dev/ptmx`),
      op.pivotRoot(rootfs),
      op.setsid(),
      op.console("/dev/ptmx", 0, 0, true),
      sh("true"),
    ]);
    expect(link.errors).toHaveLength(1);
    expect(link.errors[0]).toMatch(/^console: \/dev\/ptmx is not a devpts ptmx \(fs 0x1021994, /);
    const cons = await consoleRun([
      ...setup(rootfs, devpts(rootfs)),
      op.symlink("/etc/passwd", `${rootfs}/dev/console`),
      op.pivotRoot(rootfs),
      op.setsid(),
      op.console("/dev/pts/ptmx", 0, 0, true),
      sh("true"),
    ]);
    expect(cons.errors).toEqual(["console: /dev/console is not a file or a character device (mode 120777)"]);
    expect(readFileSync(join(rootfs, "etc/passwd"), "utf8")).toMatch(/^root:/);
  });

  it("accepts devpts' own ptmx and binds the slave on a /dev/console it creates", async () => {
    const rootfs = freshRootfs("goodptmx");
    const r = await consoleRun([
      ...setup(rootfs, devpts(rootfs)),
      op.pivotRoot(rootfs),
      op.setsid(),
      op.console("/dev/pts/ptmx", 0, 0, true),
      sh("true"),
    ]);
    expect(r.errors).toEqual([]);
    expect(r.init?.code).toBe(0);
  });
});

describe("tsrun-exec: OP_CHDIR checks the cwd is inside the root (CVE-2024-21626)", () => {
  it("refuses a cwd reached through an fd of a host directory, with and without a resolution root", async () => {
    const rootfs = freshRootfs("cwd");
    const hostDir = open(scratch.top, O_DIRECTORY | O_CLOEXEC);
    try {
      // Without OP_ROOT (as `tsrun exec` has none): the chdir works, the check after it catches it.
      const plain = await runPlan(
        [
          op.clone(CLONE_NEWNS | CLONE_NEWPID),
          op.initBegin(),
          ...bindRootfs(rootfs),
          mountProc(rootfs),
          op.pivotRoot(rootfs),
          op.chdir("/proc/self/fd/4"),
          sh("pwd"),
        ],
        { extraFds: [hostDir] },
      );
      expect(plain.errors).toHaveLength(1);
      expect(plain.errors[0]).toMatch(
        /^chdir \/proc\/self\/fd\/4: the working directory \(unreachable\)\/.* is outside the root$/,
      );
      expect(plain.stdout).toBe("");
      // With OP_ROOT the magic link is not even followed.
      const rooted = await runPlan(
        [...setup(rootfs), op.pivotRoot(rootfs), op.chdir("/proc/self/fd/4"), sh("pwd")],
        {
          extraFds: [hostDir],
        },
      );
      expect(rooted.errors).toEqual(["chdir /proc/self/fd/4: Too many levels of symbolic links"]);
      // An ordinary directory passes.
      const ok = await runPlan([...setup(rootfs), op.pivotRoot(rootfs), op.chdir("/etc"), sh("pwd")]);
      expect(ok.errors).toEqual([]);
      expect(ok.stdout).toBe("/etc\n");
    } finally {
      close(hostDir);
    }
  });

  it("leaves no mount behind on the host", () => {
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(scratch.top);
  });
});
