// Attacks on the runtime from a container or its image, each tried for real and shown to fail: the runtime's
// binary through /proc/<pid>/exe (CVE-2019-5736), leaked fds and a cwd through /proc/self/fd (CVE-2024-21626),
// mount targets through symlinks in the image or swapped in during setup (CVE-2019-16884, CVE-2021-30465),
// masks redirected by a symlink, read-only /proc and /sys, and LSM fields on a host without the LSM (as runc).
// Runs against runc too (TSRUN_TEST_RUNTIME=/usr/sbin/runc) where runc 1.1.5 is not itself vulnerable.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { alive, IS_RUNC, RUNTIME, rtq, spawnRt, stateJson, stateOf, until, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();
const EXECUTOR = fileURLToPath(new URL("../../native/build/tsrun-exec", import.meta.url));
/** The program the runtime runs in the container's namespaces (runc re-executes itself as runc init). */
const RUNTIME_BINARY = IS_RUNC ? realpathSync(RUNTIME) : EXECUTOR;
const O_PATH = 0o10000000;
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const hasAppArmor = existsSync("/sys/kernel/security/apparmor");
const hasSelinux = existsSync("/sys/fs/selinux/enforce");

/** The pids of the host whose pid namespace is `ns` (a /proc/<pid>/ns/pid link text). */
function pidsInNamespace(ns: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/pid`) === ns) out.push(Number(e));
    } catch {}
  }
  return out;
}

describe("CVE-2019-5736: the runtime's binaries cannot be written from a container", () => {
  it("runs the init from a sealed in-memory copy: /proc/<init>/exe is no file, and writing it fails", async () => {
    const before = sha(RUNTIME_BINARY);
    const b = bundle((s) => {
      s.process!.args = ["true"];
    });
    expect((await rtq(b, ["create", "exe"])).code).toBe(0);
    const { pid } = (await stateJson(b, "exe")) as { pid: number };
    track(pid);
    // The init waits on exec.fifo: it is still the runtime's own program, as a container process would find it.
    const exe = readlinkSync(`/proc/${pid}/exe`);
    expect(exe).not.toBe(RUNTIME_BINARY);
    // (runc 1.1's sealed clone reads as "/"; tsrun's is named.)
    if (!IS_RUNC) expect(exe).toMatch(/^\/memfd:tsrun-exec \(deleted\)$/);
    // CVE-2019-5736's sequence: hold the binary (an O_PATH fd), wait until no process runs it (a running file
    // cannot be opened for writing), then reopen it for writing through /proc/self/fd.
    const held = openSync(`/proc/${pid}/exe`, O_PATH);
    try {
      expect((await rtq(b, ["delete", "--force", "exe"])).code).toBe(0);
      await until("the init to be gone", () => !alive(pid));
      let wrote = false;
      let error = "";
      try {
        const w = openSync(`/proc/self/fd/${held}`, "r+");
        try {
          writeSync(w, "#!/bin/sh\necho pwned\n", 0);
          wrote = true;
        } finally {
          closeSync(w);
        }
      } catch (e) {
        error = (e as NodeJS.ErrnoException).code ?? String(e);
      }
      expect(wrote).toBe(false);
      // EROFS: runc 1.1 may run from a read-only bind of its clone rather than a sealed memfd.
      expect(error).toMatch(/^(EPERM|ETXTBSY|EACCES|EROFS)$/);
    } finally {
      closeSync(held);
    }
    expect(sha(RUNTIME_BINARY)).toBe(before);
  });

  it("a process in the container's pid namespace finds nothing of the runtime to write, and never node", async () => {
    const node = process.execPath;
    const nodeSum = sha(node);
    const executorSum = sha(RUNTIME_BINARY);
    const cli = fileURLToPath(new URL("../../packages/cli/dist/", import.meta.url));
    const jsSums = existsSync(cli)
      ? readdirSync(cli)
          .filter((f) => f.endsWith(".js"))
          .map((f) => sha(join(cli, f)))
      : [];
    // The attacker: a container that scans its pid namespace for any program that is not its own busybox,
    // holds it open, waits for it to exit and tries to write it.
    const shared = mkdtempSync(join(tmpdir(), "tsrun-attacker-"));
    onTestFinished(() => rmSync(shared, { recursive: true, force: true }));
    const attacker = bundle((s) => {
      // The rootfs is read-only: the attacker reports through a bind of a host directory.
      s.mounts!.push({ destination: "/shared", type: "bind", source: shared, options: ["rbind", "rw"] });
      s.process!.args = [
        "sh",
        "-c",
        [
          "seen=",
          "while [ ! -e /shared/stop ]; do",
          "  for d in /proc/[0-9]*; do",
          "    p=$(basename $d); [ $p = 1 ] || [ $p = $$ ] && continue",
          '    case " $seen " in *" $p "*) continue;; esac',
          '    t=$(readlink $d/exe 2>/dev/null) || { [ -e $d ] && { echo "unreadable $p" >> /shared/log; seen="$seen $p"; }; continue; }',
          '    case "$t" in /bin/busybox|"") continue;; esac',
          '    echo "found $t" >> /shared/log; seen="$seen $p"',
          "    exec 3< $d/exe || { echo open-refused >> /shared/log; continue; }",
          "    while [ -e $d/exe ]; do sleep 0.05; done",
          "    if echo PWNED >> /proc/self/fd/3; then echo WROTE >> /shared/log; else echo REFUSED >> /shared/log; fi",
          "  done",
          "  sleep 0.05",
          "done",
          "echo stopped >> /shared/log",
        ].join("\n"),
      ];
    });
    expect((await rtq(attacker, ["run", "-d", "attacker"])).code).toBe(0);
    const attackerPid = track(((await stateJson(attacker, "attacker")) as { pid: number }).pid);
    // The victim joins the attacker's pid namespace and stays there as the runtime's own program (created, not
    // started); then it is deleted, which is when CVE-2019-5736 writes the binary.
    const victim = bundle((s) => {
      s.process!.args = ["true"];
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === "pid" ? { type: "pid", path: `/proc/${attackerPid}/ns/pid` } : n,
      );
    });
    expect((await rtq(victim, ["create", "victim"])).code).toBe(0);
    const victimPid = track(((await stateJson(victim, "victim")) as { pid: number }).pid);
    // Every process in that pid namespace is a container program or the runtime's sealed copy; never node.
    const ns = readlinkSync(`/proc/${attackerPid}/ns/pid`);
    const exes = pidsInNamespace(ns).map((p) => readlinkSync(`/proc/${p}/exe`));
    expect(exes).not.toContain(node);
    expect(exes).not.toContain(RUNTIME_BINARY);
    if (!IS_RUNC) {
      expect(exes.every((e) => e.startsWith("/memfd:") || e === "/bin/busybox")).toBe(true);
      expect(exes.some((e) => e.startsWith("/memfd:"))).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await rtq(victim, ["delete", "--force", "victim"])).code).toBe(0);
    await until("the victim's init to be gone", () => !alive(victimPid));
    const log = join(shared, "log");
    await new Promise((r) => setTimeout(r, 1000));
    writeFileSync(join(shared, "stop"), "");
    await until(
      "the attacker to stop",
      () => existsSync(log) && readFileSync(log, "utf8").includes("stopped"),
      20000,
    );
    const text = readFileSync(log, "utf8");
    // It did see the victim (it is in its pid namespace) but could not even read its exe: the executor is not
    // dumpable once it joins namespaces; and had it been, the exe is the sealed copy.
    expect(text).toMatch(/unreadable|found/);
    expect(text).not.toContain("WROTE");
    expect(sha(RUNTIME_BINARY)).toBe(executorSum);
    expect(sha(node)).toBe(nodeSum);
    if (existsSync(cli))
      expect(
        readdirSync(cli)
          .filter((f) => f.endsWith(".js"))
          .map((f) => sha(join(cli, f))),
      ).toEqual(jsSums);
    expect((await rtq(attacker, ["delete", "--force", "attacker"])).code).toBe(0);
  }, 40000);

  // runc re-executes as a CLI that exits at once; the live part of this attack is tsrun's executor.
  it.skipIf(IS_RUNC)(
    "an entrypoint '#!/proc/self/exe' runs the sealed copy, which cannot be written",
    async () => {
      const before = sha(RUNTIME_BINARY);
      const b = bundle((s) => {
        s.process!.args = ["/entry"];
        // The executor image, re-run in the container, waits for a plan on fd 0: it stays alive to be attacked.
        s.process!.env = [...(s.process!.env ?? []), "_TSRUN_INITPIPE=0"];
      });
      writeFileSync(join(b.dir, "rootfs/entry"), "#!/proc/self/exe\n", { mode: 0o755 });
      const run = spawnRt(b, ["run", "shebang"], ["pipe", "pipe", "pipe"]);
      // Its stdin stays open (collect() would end it): the re-executed runtime blocks reading a plan from it.
      const result = new Promise((r) => run.on("close", r));
      try {
        await until("the container to run", () => stateOf(b, "shebang")?.status === "running");
        const pid = track(stateOf(b, "shebang")!.pid);
        await until("the re-executed runtime", () => readlinkSync(`/proc/${pid}/exe`).startsWith("/memfd:"));
        expect(readlinkSync(`/proc/${pid}/exe`)).toBe("/memfd:tsrun-exec (deleted)");
        const held = openSync(`/proc/${pid}/exe`, O_PATH);
        try {
          expect((await rtq(b, ["kill", "shebang", "KILL"])).code).toBe(0);
          await until("it to be gone", () => !alive(pid));
          let code = "";
          try {
            const w = openSync(`/proc/self/fd/${held}`, "r+");
            try {
              writeSync(w, "#!/bin/sh\necho pwned\n", 0);
            } finally {
              closeSync(w);
            }
          } catch (e) {
            code = (e as NodeJS.ErrnoException).code ?? "";
          }
          expect(code).toBe("EPERM");
        } finally {
          closeSync(held);
        }
      } finally {
        run.stdin?.end();
        await result;
      }
      expect(sha(RUNTIME_BINARY)).toBe(before);
    },
  );

  it("the container's pid 1 is its program, not node nor the runtime", async () => {
    const b = bundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        "readlink /proc/1/exe; for d in /proc/[0-9]*; do readlink $d/exe; done | sort -u",
      ];
    });
    const r = await rtq(b, ["run", "pid1"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("/bin/busybox");
    expect(lines.slice(1)).toEqual(["/bin/busybox"]);
  });
});

describe("CVE-2024-21626: no leaked fds, no cwd through /proc/self/fd", () => {
  it("gives the container only 0-2, whatever fds the runtime inherited", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"];
    });
    // An fd of a host directory (the kind of leak CVE-2024-21626 used) at 3 and 4 in the runtime.
    const d1 = openSync("/", "r");
    const d2 = openSync("/tmp", "r");
    try {
      const r = await rtq(b, ["run", "fds"], { extraFds: [d1, d2] });
      expect(r.code).toBe(0);
      // 3 is ls's own directory fd.
      expect(r.stdout.trim()).toBe("0 1 2 3");
    } finally {
      closeSync(d1);
      closeSync(d2);
    }
  });

  // runc 1.1.5 predates the fix (1.1.12): do not run the escape against it.
  it.skipIf(IS_RUNC)("refuses process.cwd through /proc/self/fd before anything runs", async () => {
    const b = bundle((s) => {
      s.process!.cwd = "/proc/self/fd/7";
      s.process!.args = ["sh", "-c", "pwd; ls ../../../.."];
    });
    const r = await rtq(b, ["run", "cwd"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("process.cwd: /proc/self/fd/7 leads through /proc to another process's files");
    expect(r.stdout).toBe("");
  });
});

describe("CVE-2019-16884 / CVE-2021-30465: mounts stay inside the rootfs", () => {
  const outside = `/tmp/tsrun-hardening-outside-${process.pid}`;
  afterEach(() => rmSync(outside, { recursive: true, force: true }));

  it("follows image symlinks to host paths inside the rootfs (/etc -> /, a link to an absolute host dir)", async () => {
    mkdirSync(outside, { recursive: true });
    const b = bundle((s) => {
      s.mounts!.push({ destination: "/data/inner", type: "tmpfs", source: "tmpfs", options: ["nosuid"] });
      s.mounts!.push({ destination: "/etc/tsrun-probe", type: "tmpfs", source: "tmpfs", options: [] });
      s.process!.args = ["sh", "-c", `grep -c ' ${outside}/inner \\| /tsrun-probe ' /proc/self/mountinfo`];
    });
    const rootfs = join(b.dir, "rootfs");
    rmSync(join(rootfs, "etc"), { recursive: true, force: true });
    symlinkSync("/", join(rootfs, "etc"));
    symlinkSync(outside, join(rootfs, "data"));
    const r = await rtq(b, ["run", "links"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("2");
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync("/tsrun-probe")).toBe(false);
    expect(statSync(join(rootfs, outside.slice(1), "inner")).isDirectory()).toBe(true);
  });

  // runc 1.1.5's MkdirAll on the joined path is open to this race (CVE-2024-45310, fixed in 1.1.14).
  it.skipIf(IS_RUNC)(
    "never creates or mounts outside while a racing process swaps a rootfs directory for a symlink to the host",
    async () => {
      mkdirSync(outside, { recursive: true });
      const b = bundle((s) => {
        for (let i = 0; i < 4; i++)
          s.mounts!.push({ destination: `/data/m${i}/deep`, type: "tmpfs", source: "tmpfs", options: [] });
        s.process!.args = ["true"];
      });
      const rootfs = join(b.dir, "rootfs");
      mkdirSync(join(rootfs, "data"));
      symlinkSync(outside, join(rootfs, "data.link"));
      // renameat2(RENAME_EXCHANGE) swaps the directory and the symlink atomically, as fast as it can.
      const racer = spawn(
        "python3",
        [
          "-c",
          [
            "import ctypes, os, sys",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "os.chdir(sys.argv[1])",
            "while True: libc.renameat2(-100, b'data', -100, b'data.link', 2)",
          ].join("\n"),
          rootfs,
        ],
        { stdio: "ignore" },
      );
      try {
        let ok = 0;
        for (let i = 0; i < 25; i++) {
          const r = await rtq(b, ["run", `race${i}`]);
          if (r.code === 0) ok++;
          // Whatever happened to this run, nothing was made on the host side of the link.
          expect(readdirSync(outside)).toEqual([]);
        }
        // Most runs see a directory or a link resolved inside the rootfs, and succeed.
        expect(ok).toBeGreaterThan(0);
      } finally {
        racer.kill("SIGKILL");
      }
      expect(readdirSync(outside)).toEqual([]);
    },
    120000,
  );
});

describe("read-only /proc and /sys, masks", () => {
  it("keeps /sys and /proc/sys read-only and masked paths empty, as the default spec says", async () => {
    const b = bundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        [
          "touch /sys/x 2>&1",
          "(echo 1 > /proc/sys/vm/drop_caches) 2>&1",
          "wc -c < /proc/keys",
          "ls /sys/firmware | wc -l",
          "grep -c ' /sys ro,' /proc/self/mountinfo",
        ].join("; "),
      ];
    });
    const r = await rtq(b, ["run", "ro"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/Read-only file system/);
    expect(lines[1]).toMatch(/Read-only file system/);
    expect(lines[2]?.trim()).toBe("0"); // masked: /dev/null
    expect(lines[3]?.trim()).toBe("0"); // masked: an empty tmpfs
    expect(lines[4]?.trim()).toBe("1");
  });

  // runc 1.1.5 follows the link and masks its target.
  it.skipIf(IS_RUNC)("masks a symlink at a masked path itself, never the file it points to", async () => {
    const b = bundle((s) => {
      s.linux!.maskedPaths = [...(s.linux!.maskedPaths ?? []), "/etc/secret-link"];
      s.process!.args = ["sh", "-c", "cat /etc/secret-link; echo ---; head -c 5 /etc/passwd"];
    });
    symlinkSync("/etc/passwd", join(b.dir, "rootfs/etc/secret-link"));
    const r = await rtq(b, ["run", "masklink"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("---\nroot:");
  });
});

describe.skipIf(hasAppArmor || hasSelinux)(
  "LSM fields on a host without AppArmor or SELinux: as runc 1.1",
  () => {
    it("fails on an AppArmor profile: the kernel refuses the exec attribute", async () => {
      const b = bundle((s) => {
        s.process!.apparmorProfile = "tsrun-test";
        s.process!.args = ["true"];
      });
      const r = await rtq(b, ["run", "aa"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/\/proc\/self\/attr\/exec: invalid argument/i);
    });

    it("refuses an SELinux process label with runc's message", async () => {
      const b = bundle((s) => {
        s.process!.selinuxLabel = "system_u:system_r:container_t:s0";
        s.process!.args = ["true"];
      });
      const r = await rtq(b, ["run", "se"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        "selinux label is specified in config, but selinux is disabled or not supported",
      );
    });

    it("fails on a mount label: the context= option is refused by the kernel", async () => {
      const b = bundle((s) => {
        s.linux!.mountLabel = "system_u:object_r:container_file_t:s0";
        s.process!.args = ["true"];
      });
      const r = await rtq(b, ["run", "ml"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/mount.*tmpfs.*\/dev.*invalid argument/i);
    });
  },
);
