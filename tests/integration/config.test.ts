// What config.json asks for is what the process gets: hostname, env, cwd, user and groups, capabilities, rlimits,
// a read-only root, masked paths, loopback, cgroup limits; and the create flags --no-pivot and --preserve-fds.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Spec } from "../../packages/libcontainer/src/index.js";
import { rt, rtq, stateJson, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();

/** Runs `sh -c script` in the foreground with the spec edited; returns stdout, checking it exited 0. */
async function sh(script: string, edit: (s: Spec) => void = () => {}, flags: string[] = []): Promise<string> {
  const b = bundle((s) => {
    s.process!.args = ["sh", "-c", script];
    edit(s);
  });
  const r = await rt(b, ["run", ...flags, "cfg"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

/** A field of /proc/self/status as the container sees it. */
const statusField = (status: string, name: string) =>
  status
    .split("\n")
    .find((l) => l.startsWith(`${name}:`))!
    .slice(name.length + 1)
    .trim();

// From linux/capability.h: the test does not take them from the code it tests.
const CAP_BITS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_KILL: 5,
  CAP_SETUID: 7,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_RAW: 13,
  CAP_SYS_ADMIN: 21,
  CAP_AUDIT_WRITE: 29,
};
const mask = (names: string[]) => names.reduce((m, n) => m | (1n << BigInt(CAP_BITS[n]!)), 0n);

describe("process", () => {
  it("gets the hostname, env and cwd", async () => {
    const out = await sh("hostname; echo $FOO; echo $BAR; pwd", (s) => {
      s.hostname = "it-host";
      s.process!.env = ["PATH=/bin:/usr/bin", "FOO=foo value", "BAR="];
      s.process!.cwd = "/home/user";
    });
    expect(out).toBe("it-host\nfoo value\n\n/home/user\n");
  });

  it("sets HOME from the image's passwd when env has none (containerd --rootfs gives no env)", async () => {
    const noEnv = (user: { uid: number; gid: number }) => (s: Spec) => {
      s.process!.args = ["/bin/sh", "-c", 'echo "$HOME"'];
      delete s.process!.env;
      s.process!.user = user;
    };
    expect(await sh("", noEnv({ uid: 0, gid: 0 }))).toBe("/root\n");
    expect(await sh("", noEnv({ uid: 1000, gid: 1000 }))).toBe("/home/user\n");
    expect(await sh("", noEnv({ uid: 4242, gid: 4242 }))).toBe("/\n");
    expect(await sh('echo "$HOME"', (s) => void s.process!.env!.push("HOME=/kept"))).toBe("/kept\n");
  });

  it("creates a missing cwd", async () => {
    expect(
      await sh("pwd", (s) => {
        s.process!.cwd = "/made/by/runtime";
      }),
    ).toBe("/made/by/runtime\n");
  });

  it("runs as uid 1000 with its gid and the additional gids", async () => {
    const out = await sh("cat /proc/self/status; id -u; id -g", (s) => {
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20] };
    });
    expect(statusField(out, "Uid").split(/\s+/)).toEqual(["1000", "1000", "1000", "1000"]);
    expect(statusField(out, "Gid").split(/\s+/)).toEqual(["1001", "1001", "1001", "1001"]);
    expect(statusField(out, "Groups").split(/\s+/).sort()).toEqual(["10", "20"]);
    expect(out.trimEnd().split("\n").slice(-2)).toEqual(["1000", "1001"]);
    // A non-root user keeps no capabilities it was not given as ambient.
    expect(statusField(out, "CapEff")).toBe("0000000000000000");
  });

  it("has exactly the spec's capability sets", async () => {
    const effective = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"];
    const bounding = [...effective, "CAP_SYS_ADMIN"];
    const out = await sh("cat /proc/self/status", (s) => {
      s.process!.capabilities = {
        bounding,
        effective,
        permitted: effective,
        inheritable: [],
        ambient: [],
      };
    });
    const hex = (m: bigint) => m.toString(16).padStart(16, "0");
    expect(statusField(out, "CapEff")).toBe(hex(mask(effective)));
    expect(statusField(out, "CapPrm")).toBe(hex(mask(effective)));
    expect(statusField(out, "CapBnd")).toBe(hex(mask(bounding)));
    expect(statusField(out, "CapInh")).toBe(hex(0n));
    expect(statusField(out, "CapAmb")).toBe(hex(0n));
    expect(statusField(out, "NoNewPrivs")).toBe("1");
  });

  it("has the default spec's capabilities and no-new-privileges off when asked", async () => {
    const out = await sh("cat /proc/self/status", (s) => {
      s.process!.noNewPrivileges = false;
    });
    expect(statusField(out, "CapEff")).toBe(
      mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]).toString(16).padStart(16, "0"),
    );
    expect(statusField(out, "NoNewPrivs")).toBe("0");
  });

  it("has the spec's rlimits", async () => {
    const out = await sh("ulimit -Sn; ulimit -Hn; ulimit -Su", (s) => {
      s.process!.rlimits = [
        { type: "RLIMIT_NOFILE", soft: 512, hard: 1000 },
        { type: "RLIMIT_NPROC", soft: 333, hard: 444 },
      ];
    });
    expect(out).toBe("512\n1000\n333\n");
  });

  it("refuses an unknown rlimit", async () => {
    const b = bundle((s) => {
      s.process!.rlimits = [{ type: "RLIMIT_NOPE", soft: 1, hard: 1 }];
    });
    const r = await rtq(b, ["run", "bad"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("RLIMIT_NOPE");
  });
});

describe("filesystem", () => {
  it("makes the root read-only when asked", async () => {
    const out = await sh(
      "touch /x 2>/dev/null && echo wrote || echo refused; touch /tmp/x 2>&1 || true",
      (s) => {
        s.root!.readonly = true;
      },
    );
    expect(out.split("\n")[0]).toBe("refused");
    expect(
      await sh("touch /x && echo wrote", (s) => {
        s.root!.readonly = false;
      }),
    ).toBe("wrote\n");
  });

  it("masks and read-only-mounts paths", async () => {
    const out = await sh(
      "cat /proc/kcore 2>/dev/null | wc -c; wc -c < /proc/keys; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; " +
        "(echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null && echo wrote || echo ro",
    );
    expect(out).toBe("0\n0\n0\n0\nro\n");
    // Unmasked, the same files have content here.
    const open = await sh("wc -c < /proc/keys; wc -c < /proc/timer_list", (s) => {
      s.linux!.maskedPaths = [];
    });
    expect(
      open
        .split("\n")
        .slice(0, 2)
        .map(Number)
        .every((n) => n > 0),
    ).toBe(true);
  });

  it("runs with --no-pivot in the bundle's rootfs", async () => {
    const b = bundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        "cat /etc/hostname; test -e /etc/debian_version && echo host || echo container",
      ];
    });
    const r = await rt(b, ["run", "--no-pivot", "np"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("tsrun-test\ncontainer\n");
    expect(r.code).toBe(0);
  });

  it("mounts the spec's bind mounts, read-only when asked", async () => {
    const b = bundle();
    const data = join(b.dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "f"), "from the host\n");
    b.spec.process!.args = [
      "sh",
      "-c",
      "cat /mnt/data/f; touch /mnt/data/g 2>/dev/null && echo rw || echo ro",
    ];
    b.spec.mounts!.push({ destination: "/mnt/data", type: "bind", source: data, options: ["rbind", "ro"] });
    b.write();
    const r = await rt(b, ["run", "bm"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("from the host\nro\n");
    expect(existsSync(join(data, "g"))).toBe(false);
  });
});

describe("create flags", () => {
  it("passes fd 3 into the container with --preserve-fds 1", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "cat <&3; ls /proc/self/fd"];
    });
    writeFileSync(join(b.dir, "fd3"), "through fd 3\n");
    const fd = openSync(join(b.dir, "fd3"), "r");
    const extra = openSync("/etc/hostname", "r");
    try {
      const r = await rtq(b, ["run", "--preserve-fds", "1", "pf"], { extraFds: [fd, extra] });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const lines = r.stdout.split("\n");
      expect(lines[0]).toBe("through fd 3");
      // 0-3 and ls's own directory fd; the second inherited fd (4) is not preserved.
      expect(lines.slice(1).filter(Boolean).map(Number).sort()).toEqual([0, 1, 2, 3, 4]);
      // Without the flag, fd 3 is not there (ls's directory fd takes its number).
      const r2 = await rtq(b, ["run", "pf2"], { extraFds: [fd, extra] });
      expect(r2.stdout).not.toContain("through");
      expect(r2.stdout.split("\n").filter(Boolean).map(Number).sort()).toEqual([0, 1, 2, 3]);
    } finally {
      closeSync(fd);
      closeSync(extra);
    }
  });
});

describe("network", () => {
  it("brings loopback up in a new network namespace", async () => {
    const out = await sh(
      "cat /sys/class/net/lo/flags; ls /sys/class/net; nc -l -p 7777 & for i in $(seq 100); do echo pong | nc 127.0.0.1 7777 2>/dev/null && break; sleep 0.05; done; wait",
    );
    expect(Number(out.split("\n")[0]) & 1).toBe(1);
    expect(out.split("\n").slice(1)).toEqual(["lo", "pong", ""]);
  });
});

describe("cgroups", () => {
  it("puts init in linux.cgroupsPath with the memory and pids limits, and removes it on delete", async () => {
    const path = `/tsrun-it-cg-${process.pid}`;
    const b = bundle((s) => {
      s.process!.args = ["sleep", "100"];
      s.linux!.cgroupsPath = path;
      s.linux!.resources = {
        ...s.linux!.resources,
        memory: { limit: 64 * 1024 * 1024 },
        pids: { limit: 37 },
      };
    });
    const r = await rtq(b, ["create", "cg1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pid = track((await stateJson(b, "cg1")).pid as number);
    const v1 = (ctl: string, file: string) =>
      readFileSync(join("/sys/fs/cgroup", ctl, path, file), "utf8").trim();
    expect(v1("memory", "memory.limit_in_bytes")).toBe(String(64 * 1024 * 1024));
    expect(v1("pids", "pids.max")).toBe("37");
    for (const ctl of ["memory", "pids", "cpu", "devices", "freezer", "blkio"])
      expect(v1(ctl, "cgroup.procs").split("\n")).toContain(String(pid));
    expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toMatch(new RegExp(`:memory:${path}\n`));
    expect((await rtq(b, ["delete", "--force", "cg1"])).code).toBe(0);
    for (const ctl of ["memory", "pids", "cpu", "devices", "freezer", "blkio"])
      expect(existsSync(join("/sys/fs/cgroup", ctl, path))).toBe(false);
  });

  it("kills the process on OOM in a 16 MiB cgroup (exit 137)", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"];
      s.linux!.resources = {
        ...s.linux!.resources,
        memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 },
      };
    });
    const r = await rt(b, ["run", "oom"]);
    expect(r.stdout).not.toContain("survived");
    expect(r.code).toBe(137);
  });
});
