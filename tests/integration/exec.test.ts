// exec into a running container in the four I/O modes (runc's setns init), with the process built from the
// command line or from --process FILE, and the refusals clients match on. Every case also runs against runc
// (TSRUN_TEST_RUNTIME=/usr/sbin/runc).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ECHO, ICANON } from "../../packages/console/src/termios.js";
import { ConsoleSocketServer } from "../../packages/fdpass/src/index.js";
import { capMask } from "../../packages/libcontainer/src/capabilities.js";
import { execProcess } from "../../packages/libcontainer/src/index.js";
import { waitExit } from "../../packages/libcontainer/src/libc.js";
import {
  type Bundle,
  collect,
  IS_RUNC,
  inPty,
  makeBundle,
  readMaster,
  rt,
  spawnRt,
  stateOf,
  termWhenReady,
  until,
} from "./helpers.js";

const bundles: Bundle[] = [];
afterEach(() => {
  for (const b of bundles.splice(0)) b.destroy();
});

/** A bundle whose container runs `sleep` detached, with the runtime's stdio on /dev/null. */
async function running(
  id: string,
  edit?: Parameters<typeof makeBundle>[0],
  before?: (b: Bundle) => void,
): Promise<Bundle> {
  const b = makeBundle((s) => {
    s.process!.args = ["sleep", "1000"];
    edit?.(s);
  });
  bundles.push(b);
  before?.(b);
  // The init inherits the runtime's stdio: /dev/null, so nothing waits for it to close.
  const child = spawnRt(b, ["run", "-d", id], ["ignore", "ignore", "ignore"]);
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  expect(code).toBe(0);
  expect(stateOf(b, id)?.status).toBe("running");
  return b;
}

const initPid = (b: Bundle, id: string): number => stateOf(b, id)!.pid;

describe("pass-through, foreground", () => {
  it("relays stdin, stdout and stderr and returns the exit status", async () => {
    const b = await running("pf1");
    const r = await rt(b, ["exec", "pf1", "sh", "-c", "read x; echo got $x; echo oops >&2; exit 3"], {
      input: "hello\n",
    });
    expect(r.stdout).toBe("got hello\n");
    expect(r.stderr).toBe("oops\n");
    expect(r.code).toBe(3);
    expect(stateOf(b, "pf1")?.status).toBe("running");
  });

  it("runs in the container's namespaces and cgroups, in a pid namespace of its own view", async () => {
    const b = await running("pf2");
    const pid = initPid(b, "pf2");
    const r = await rt(b, ["exec", "pf2", "sh", "-c", "cat /proc/1/cmdline; echo; cat /proc/self/cgroup"]);
    expect(r.code).toBe(0);
    const [cmdline, ...cgroup] = r.stdout.trim().split("\n");
    expect(cmdline).toBe("sleep\u00001000\u0000");
    // The same cgroups as the init, as the host sees them.
    expect(cgroup.sort()).toEqual(readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n").sort());
  });

  it("adds -e variables over the config's, sets --cwd and -u, and reaches 0-2 only", async () => {
    const b = await running("pf3", (s) => {
      s.process!.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "A=config", "B=kept"];
    });
    const extra = openSync("/etc/hostname", "r");
    try {
      const r = await rt(
        b,
        [
          "exec",
          "-e",
          "A=flag",
          "-e",
          "C=new",
          "--cwd",
          "/tmp",
          "-u",
          "1000:1000",
          "pf3",
          "sh",
          "-c",
          "echo $A $B $C; pwd; id -u; id -g; grep CapEff /proc/self/status; ls /proc/self/fd",
        ],
        { stdio: ["pipe", "pipe", "pipe", "ignore", extra, extra] },
      );
      expect(r.stderr).toBe("");
      const lines = r.stdout.trim().split("\n");
      expect(lines.slice(0, 4)).toEqual(["flag kept new", "/tmp", "1000", "1000"]);
      // A non-root user keeps no effective capabilities from the config's sets.
      expect(lines[4]).toMatch(/^CapEff:\s+0+$/);
      // 3 is ls's own directory fd; nothing the runtime inherited got through.
      expect(lines.slice(5)).toEqual(["0", "1", "2", "3"]);
      expect(r.code).toBe(0);
    } finally {
      closeSync(extra);
    }
  });

  it("gives the config's capabilities and adds --cap ones", async () => {
    const b = await running("pf4");
    const caps = async (extra: string[]) => {
      const r = await rt(b, ["exec", ...extra, "pf4", "grep", "CapEff", "/proc/self/status"]);
      expect(r.code).toBe(0);
      return BigInt(`0x${r.stdout.split(/\s+/)[1]}`);
    };
    const SYS_ADMIN = 1n << 21n;
    const base = await caps([]);
    expect(base).toBe(capMask(b.spec.process!.capabilities!.effective)); // the config's set
    expect(base & SYS_ADMIN).toBe(0n);
    expect(await caps(["--cap", "CAP_SYS_ADMIN"])).toBe(base | SYS_ADMIN);
  });

  it("forwards SIGTERM to the process and exits with its status; 128+n for a signal", async () => {
    const b = await running("pf5");
    const r = await termWhenReady(b, [
      "exec",
      "pf5",
      "sh",
      "-c",
      'trap "echo trapped; exit 7" TERM; echo ready; while :; do sleep 0.05; done',
    ]);
    expect(r.stdout).toContain("trapped");
    expect(r.code).toBe(7);
    const k = await rt(b, ["exec", "pf5", "sh", "-c", "kill -9 $$"]);
    expect(k.code).toBe(137);
  });

  it("takes the whole process from --process FILE, ignoring the config's", async () => {
    const b = await running("pf6", (s) => {
      s.process!.env = ["PATH=/bin:/usr/bin", "A=config"];
      s.process!.cwd = "/tmp";
    });
    const file = join(b.dir, "process.json");
    writeFileSync(
      file,
      JSON.stringify({
        terminal: false,
        user: { uid: 1000, gid: 1000, additionalGids: [10, 20] },
        args: ["sh", "-c", "echo $ONLY $A; pwd; id -u; id -G"],
        env: ["PATH=/bin", "ONLY=from-file"],
        cwd: "/etc",
      }),
    );
    const r = await rt(b, ["exec", "--process", file, "pf6"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual(["from-file", "/etc", "1000", "1000 10 20", ""]);
    expect(r.code).toBe(0);
  });
  it("joins the container's user namespace first and maps the user inside it", async () => {
    const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const b = await running(
      "un1",
      (s) => {
        s.linux!.namespaces!.push({ type: "user" });
        s.linux!.uidMappings = map;
        s.linux!.gidMappings = map;
      },
      (bundle) => {
        // The mapped root must reach its rootfs: through the (0700) bundle dir, and own what is inside.
        chmodSync(bundle.dir, 0o755);
        execFileSync("chown", ["-R", "100000:100000", join(bundle.dir, "rootfs")]);
      },
    );
    const script =
      "id -u; id -g; cat /proc/self/uid_map; readlink /proc/self/ns/user; readlink /proc/1/ns/user";
    const r = await rt(b, ["exec", "un1", "sh", "-c", script]);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, 3).map((l) => l.trim().split(/\s+/).join(" "))).toEqual([
      "0",
      "0",
      "0 100000 65536",
    ]);
    expect(lines[3]).toBe(lines[4]);
    const u = await rt(b, ["exec", "-u", "1000:1000", "un1", "sh", "-c", "id -u; cat"], { input: "piped\n" });
    expect(u.stdout).toBe("1000\npiped\n");
    expect(u.code).toBe(0);
  });

  it("passes --preserve-fds on as fds 3 and up", async () => {
    const b = await running("pfd1");
    const file = join(b.dir, "passed.txt");
    writeFileSync(file, "through-fd-3\n");
    const fd = openSync(file, "r");
    try {
      const r = await rt(b, ["exec", "--preserve-fds", "1", "pfd1", "sh", "-c", "cat <&3"], {
        stdio: ["pipe", "pipe", "pipe", fd],
      });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("through-fd-3\n");
    } finally {
      closeSync(fd);
    }
  });

  it("execs into a created container, which stays created", async () => {
    const b = makeBundle((s) => {
      s.process!.args = ["sleep", "1000"];
    });
    bundles.push(b);
    const child = spawnRt(b, ["create", "cr1"], ["ignore", "ignore", "ignore"]);
    expect(await new Promise((r) => child.on("exit", (c) => r(c)))).toBe(0);
    const r = await rt(b, ["exec", "cr1", "sh", "-c", "echo in-created"]);
    expect(r.stdout).toBe("in-created\n");
    expect(r.code).toBe(0);
    expect(stateOf(b, "cr1")?.status).toBe("created");
  });
  it("puts the container's seccomp filter on the process too", async () => {
    const b = await running("sc1", (s) => {
      s.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }],
      };
    });
    const r = await rt(b, ["exec", "sc1", "sh", "-c", "mkdir /tmp/x; grep Seccomp: /proc/self/status"]);
    expect(r.stderr).toMatch(/mkdir.*Operation not permitted/);
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
  });
  it("gives HOME from the container's /etc/passwd when the env has none, as runc", async () => {
    const b = await running("hm1", (s) => {
      s.process!.env = (s.process!.env ?? []).filter((e) => !e.startsWith("HOME="));
    });
    const root = await rt(b, ["exec", "hm1", "sh", "-c", "echo $HOME"]);
    expect(root.stdout).toBe("/root\n");
    const user = await rt(b, ["exec", "-u", "1000", "hm1", "sh", "-c", "echo $HOME"]);
    expect(user.stdout).toBe(
      `${readFileSync(join(b.dir, "rootfs/etc/passwd"), "utf8").match(/^[^:]*:[^:]*:1000:[^:]*:[^:]*:([^:]*):/m)?.[1]}\n`,
    );
    const none = await rt(b, ["exec", "-u", "4321", "hm1", "sh", "-c", "echo $HOME"]);
    expect(none.stdout).toBe("/\n");
    const set = await rt(b, ["exec", "-e", "HOME=/given", "hm1", "sh", "-c", "echo $HOME"]);
    expect(set.stdout).toBe("/given\n");
  });
});

describe("pass-through, detached", () => {
  it("leaves the process with the runtime's fds 0-2, its pid in --pid-file, in the container", async () => {
    const b = await running("pd1");
    const pidFile = join(b.dir, "exec.pid");
    const child = spawnRt(
      b,
      ["exec", "-d", "--pid-file", pidFile, "pd1", "sh", "-c", "sleep 1; echo from-detached; echo err >&2"],
      ["ignore", "pipe", "pipe"],
    );
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const output = collect(child);
    expect(await exited).toBe(0);
    const text = readFileSync(pidFile, "utf8");
    expect(text).toMatch(/^\d+$/); // no newline: containerd parses it with Atoi
    const pid = Number(text);
    // Alive after the runtime exited, and in the container's pid namespace (where it has a pid of its own).
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    const init = initPid(b, "pd1");
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync(`/proc/${init}/ns/pid`));
    expect(readlinkSync(`/proc/${pid}/ns/mnt`)).toBe(readlinkSync(`/proc/${init}/ns/mnt`));
    const nspid = readFileSync(`/proc/${pid}/status`, "utf8")
      .match(/^NSpid:\s+(.*)$/m)?.[1]
      ?.split(/\s+/);
    expect(nspid?.length).toBe(2);
    expect(nspid?.[0]).toBe(String(pid));
    const r = await output;
    expect(r.stdout).toBe("from-detached\n");
    expect(r.stderr).toBe("err\n");
  });
});

describe("new terminal, foreground", () => {
  it("runs in a pty of the caller's size, relays both ways, restores the terminal, returns the status", async () => {
    const b = await running("tf1");
    const r = await inPty(
      b,
      ["exec", "-t", "tf1", "sh", "-c", "stty size; tty; echo ready; read line; echo got:$line; exit 4"],
      { rows: 33, cols: 111, input: "typed\r", ready: "ready" },
    );
    expect(r.out).toContain("33 111\r\n");
    expect(r.out).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(r.out).toContain("got:typed\r\n");
    expect(r.out).not.toContain("\r\r\n");
    expect(r.termiosBefore.lflag & (ICANON | ECHO)).toBe(ICANON | ECHO);
    expect(r.termiosDuring!.lflag & (ICANON | ECHO)).toBe(0);
    expect(r.termiosAfter).toEqual(r.termiosBefore);
    expect(r.code).toBe(4);
  });
});

describe("new terminal, detached", () => {
  it("sends the master to --console-socket and exits 0; the shell works afterwards", async () => {
    const b = await running("td1");
    const server = ConsoleSocketServer.listen(join(b.dir, "console.sock"));
    try {
      const accepted = server.accept();
      const pidFile = join(b.dir, "tty.pid");
      const r = await rt(b, [
        "exec",
        "-t",
        "-d",
        "--console-socket",
        server.path,
        "--pid-file",
        pidFile,
        "td1",
        "sh",
      ]);
      expect(r.stdout + r.stderr).toBe("");
      expect(r.code).toBe(0);
      const m = await accepted;
      expect(m.name).toMatch(/^\/dev\/(pts\/\d+|ptmx)$/);
      const pid = Number(readFileSync(pidFile, "utf8"));
      expect(existsSync(`/proc/${pid}`)).toBe(true);
      writeSync(m.fd, "echo hi-$((6*7)) $(tty); exit\n");
      const text = readMaster(m.fd, (t) => /hi-42 \/dev\/pts\/\d+/.test(t));
      closeSync(m.fd);
      expect(text).toMatch(/hi-42 \/dev\/pts\/\d+/);
    } finally {
      server.close();
    }
  });
});

describe("refusals", () => {
  it("refuses a paused container unless --ignore-paused, where the process waits for resume", async () => {
    const b = await running("pz1");
    expect((await rt(b, ["pause", "pz1"])).code).toBe(0);
    const r = await rt(b, ["exec", "pz1", "true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot exec in a paused container (use --ignore-paused to override)");
    // The process joins the frozen cgroup before it execs, so it starts only once the container resumes.
    const child = spawnRt(
      b,
      ["exec", "-d", "--ignore-paused", "pz1", "echo", "after-resume"],
      ["ignore", "pipe", "pipe"],
    );
    const output = collect(child);
    let exited = false;
    child.on("exit", () => {
      exited = true;
    });
    await new Promise((res) => setTimeout(res, 1000));
    expect(exited).toBe(false);
    expect((await rt(b, ["resume", "pz1"])).code).toBe(0);
    const out = await output;
    expect(out.code).toBe(0);
    expect(out.stdout).toBe("after-resume\n");
  });

  it("refuses a missing container and a stopped one", async () => {
    const b = await running("st1");
    const missing = await rt(b, ["exec", "nosuch", "true"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("container does not exist");
    const k = await rt(b, ["kill", "st1", "9"]);
    expect(k.code).toBe(0);
    await until("stopped", () => stateOf(b, "st1")?.status === "stopped");
    const r = await rt(b, ["exec", "st1", "true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot exec in a stopped container");
  });

  it("reports a missing program with the words podman maps to 127", async () => {
    const b = await running("mb1");
    const r1 = await rt(b, ["exec", "mb1", "nope"]);
    expect(r1.code).toBe(255);
    expect(r1.stderr).toContain('exec: \\"nope\\": executable file not found in $PATH');
    const r2 = await rt(b, ["exec", "mb1", "/nope"]);
    expect(r2.code).toBe(255);
    expect(r2.stderr).toContain("stat /nope: no such file or directory");
    expect(stateOf(b, "mb1")?.status).toBe("running");
  });

  it("refuses a bad user, empty args, and the terminal rules", async () => {
    const b = await running("bu1");
    const user = await rt(b, ["exec", "-u", "abc", "bu1", "true"]);
    expect(user.code).not.toBe(0);
    expect(user.stderr).toContain("parsing abc as int for uid failed");
    const empty = await rt(b, ["exec", "bu1"]);
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain("args cannot be empty");
    const t1 = await rt(b, ["exec", "-d", "-t", "bu1", "true"]);
    expect(t1.code).not.toBe(0);
    expect(t1.stderr).toMatch(/cannot allocate tty if \w+ will detach without setting console socket/);
    const t2 = await rt(b, ["exec", "--console-socket", join(b.dir, "x.sock"), "bu1", "true"]);
    expect(t2.code).not.toBe(0);
    expect(t2.stderr).toMatch(/cannot use console socket if \w+ will not detach or allocate tty/);
    const cwd = await rt(b, ["exec", "--cwd", "/nonexistent", "bu1", "true"]);
    expect(cwd.code).not.toBe(0);
    expect(cwd.stderr).toMatch(/nonexistent.*no such file or directory/i);
  });
});

describe("in process (the libcontainer API)", () => {
  it.skipIf(IS_RUNC)("leaves no fd and no zombie behind, on success and on failure", async () => {
    const b = await running("fd1");
    const fds = () => readdirSync("/proc/self/fd").length;
    const zombies = () =>
      execFileSync("ps", ["-o", "stat=", "--ppid", String(process.pid)])
        .toString()
        .split("\n")
        .filter((st) => st.startsWith("Z")).length;
    const missing = () =>
      expect(
        execProcess({ root: b.root, id: "fd1", overrides: { args: ["nope"] }, detach: true }),
      ).rejects.toThrow('exec: "nope": executable file not found in $PATH');
    // The first exec seals the executor into a memfd that stays open for the next ones: counted from there on.
    await missing();
    const before = fds();
    const server = ConsoleSocketServer.listen(join(b.dir, "c.sock"));
    try {
      const accepted = server.accept();
      const code = await execProcess({
        root: b.root,
        id: "fd1",
        overrides: { args: ["sh"], tty: true },
        consoleSocket: server.path,
        pidFile: join(b.dir, "sh.pid"),
        detach: true,
      });
      expect(code).toBe(0);
      const m = await accepted;
      writeSync(m.fd, "exit 3\n");
      // Detached, the process is the caller's child (here, ours) to reap, as a shim would.
      expect(await waitExit(Number(readFileSync(join(b.dir, "sh.pid"), "utf8")))).toBe(3);
      closeSync(m.fd);
    } finally {
      server.close();
    }
    await missing();
    await expect(
      execProcess({ root: b.root, id: "fd1", overrides: { args: ["sh"], user: "x" }, detach: true }),
    ).rejects.toThrow("parsing x as int for uid failed");
    expect(fds()).toBe(before);
    expect(zombies()).toBe(0);
  });

  // As runc: the seccomp filter (and umask, oom_score_adj) is the one create read, kept with the state, so a
  // bundle's config.json changed or removed since cannot take it away from an exec; the process defaults (args,
  // env, cwd, ...) come from the bundle's config.json as it is now, and without it only --process can exec.
  it("keeps the filter create read, and takes process defaults from the bundle's config.json now", async () => {
    const b = await running("nc1", (s) => {
      s.process!.env = [...(s.process!.env ?? []), "FROM=create"];
      s.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }],
      };
    });
    const changed = JSON.parse(readFileSync(join(b.dir, "config.json"), "utf8"));
    delete changed.linux.seccomp;
    changed.process.env = changed.process.env.map((e: string) => (e === "FROM=create" ? "FROM=later" : e));
    writeFileSync(join(b.dir, "config.json"), JSON.stringify(changed));
    const r = await rt(b, ["exec", "nc1", "sh", "-c", "mkdir /tmp/x; echo $FROM"]);
    expect(r.stderr).toMatch(/mkdir.*Operation not permitted/);
    expect(r.stdout).toBe("later\n");
    rmSync(join(b.dir, "config.json"));
    const gone = await rt(b, ["exec", "nc1", "true"]);
    expect(gone.code).toBe(255);
    expect(gone.stderr).toContain("JSON specification file config.json not found");
    const file = join(b.dir, "p.json");
    writeFileSync(
      file,
      JSON.stringify({
        user: { uid: 0, gid: 0 },
        args: ["sh", "-c", "mkdir /tmp/y; echo ran"],
        env: ["PATH=/bin:/usr/bin"],
        cwd: "/",
      }),
    );
    const p = await rt(b, ["exec", "--process", file, "nc1"]);
    expect(p.stderr).toMatch(/mkdir.*Operation not permitted/);
    expect(p.stdout).toBe("ran\n");
  });
});
