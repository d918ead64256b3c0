import { describe, expect, it } from "vitest";
import { capMasks } from "./capabilities.js";
import {
  compileExecPlan,
  EXEC_SYNC_LABELS,
  type ExecCompileContext,
  namespacesToJoin,
} from "./compile-exec.js";
import { defaultSpec } from "./default-spec.js";
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
} from "./namespaces.js";
import { type Op, OpCode, op } from "./plan.js";
import type { Process } from "./spec.js";

const proc = (edit: (p: Process) => void = () => {}): Process => {
  const p = structuredClone(defaultSpec().process!);
  p.terminal = false;
  p.args = ["sh", "-c", "true"];
  edit(p);
  return p;
};

const ctx = (c: Partial<ExecCompileContext> = {}): ExecCompileContext => ({
  namespaces: [],
  consoleSocket: false,
  preserveFds: 0,
  lastCap: 40,
  ...c,
});

const codes = (plan: Op[]) => plan.map((o) => OpCode[o.code]);

describe("namespacesToJoin", () => {
  // Inodes by path: the container has its own of everything but cgroup and time.
  const inodes: Record<string, number> = {};
  for (const n of ["user", "ipc", "uts", "net", "pid", "mnt", "cgroup", "time"]) {
    inodes[`/proc/self/ns/${n}`] = 100;
    inodes[`/proc/42/ns/${n}`] = n === "cgroup" || n === "time" ? 100 : 200;
  }

  it("joins those that differ from ours, user first and mount last", () => {
    const got = namespacesToJoin(42, (p) => inodes[p]);
    expect(got.map((n) => n.type)).toEqual(["user", "ipc", "uts", "network", "pid", "mount"]);
    expect(got[0]!.path).toBe("/proc/42/ns/user");
    expect(got.at(-1)!.path).toBe("/proc/42/ns/mnt");
  });

  it("skips namespace types the kernel does not have, and compares inodes as bigints", () => {
    const got = namespacesToJoin(7, (p) => {
      if (p.endsWith("/time") || p.endsWith("/cgroup")) return undefined;
      return p.startsWith("/proc/self/") ? 5n : p.endsWith("/pid") ? 6n : 5n;
    });
    expect(got).toEqual([{ type: "pid", path: "/proc/7/ns/pid" }]);
  });
});

describe("compileExecPlan", () => {
  it("joins in runc's order whatever the given order, then clones with no new namespace", () => {
    const plan = compileExecPlan(
      proc(),
      ctx({
        namespaces: [
          { type: "mount", path: "/proc/9/ns/mnt" },
          { type: "cgroup", path: "/proc/9/ns/cgroup" },
          { type: "pid", path: "/proc/9/ns/pid" },
          { type: "user", path: "/proc/9/ns/user" },
          { type: "network", path: "/proc/9/ns/net" },
          { type: "uts", path: "/proc/9/ns/uts" },
          { type: "ipc", path: "/proc/9/ns/ipc" },
        ],
      }),
    );
    expect(plan.slice(0, 9)).toEqual([
      op.setns("/proc/9/ns/user", CLONE_NEWUSER),
      op.setns("/proc/9/ns/ipc", CLONE_NEWIPC),
      op.setns("/proc/9/ns/uts", CLONE_NEWUTS),
      op.setns("/proc/9/ns/net", CLONE_NEWNET),
      op.setns("/proc/9/ns/pid", CLONE_NEWPID),
      op.setns("/proc/9/ns/cgroup", CLONE_NEWCGROUP),
      op.setns("/proc/9/ns/mnt", CLONE_NEWNS),
      op.clone(0),
      op.initBegin(),
    ]);
  });

  it("puts the process in the cgroups first, sets up identity as runc's setns init, and execs", () => {
    const p = proc((x) => {
      x.noNewPrivileges = true;
      x.user = { uid: 1000, gid: 1000, additionalGids: [5] };
      x.cwd = "/tmp";
      x.env = ["PATH=/bin"];
      x.rlimits = [{ type: "RLIMIT_NOFILE", soft: 10, hard: 20 }];
    });
    const plan = compileExecPlan(p, ctx({ preserveFds: 2, umask: 0o027, oomScoreAdj: 5 }));
    expect(codes(plan)).toEqual([
      "OomScoreAdj",
      "Clone",
      "InitBegin",
      "Setsid",
      "Sync",
      "Rlimit",
      "NoNewPrivs",
      "Umask",
      "CloseFrom",
      "CapBounding",
      "Setuser",
      "Chdir",
      "Caps",
      "Lookup",
      "StdioBlocking",
      "Exec",
    ]);
    expect(plan[4]).toEqual(op.sync(EXEC_SYNC_LABELS.cgroups));
    expect(plan).toContainEqual(op.oomScoreAdj(5));
    expect(plan).toContainEqual(op.umask(0o027));
    expect(plan).toContainEqual(op.closeFrom(5));
    expect(plan).toContainEqual(op.setuser(1000, 1000, [5]));
    expect(plan).toContainEqual(op.chdir("/tmp"));
    const caps = capMasks(p.capabilities, 40);
    expect(plan).toContainEqual(op.capBounding(caps.bounding));
    // No HOME in the env and no passwd entry: "/", as runc.
    expect(plan).toContainEqual(op.lookup("sh", ["PATH=/bin", "HOME=/"]));
    expect(plan.at(-1)).toEqual(op.exec("sh", ["sh", "-c", "true"], ["PATH=/bin", "HOME=/"]));
  });

  it("opens the terminal from the container's devpts without touching /dev/console", () => {
    const p = proc((x) => {
      x.terminal = true;
      x.consoleSize = { height: 33, width: 111 };
    });
    const detached = compileExecPlan(p, ctx({ consoleSocket: true }));
    expect(detached).toContainEqual(op.console("/dev/pts/ptmx", 33, 111, false));
    expect(detached).not.toContainEqual(op.sync(EXEC_SYNC_LABELS.console));
    // Foreground: tsrun clears ONLCR on the master before the program can write.
    const fg = compileExecPlan(p, ctx({ consoleSocket: true, consoleSync: true }));
    const at = fg.findIndex((o) => o.code === OpCode.Console);
    expect(fg[at + 1]).toEqual(op.sync(EXEC_SYNC_LABELS.console));
    expect(fg.findIndex((o) => o.code === OpCode.Sync)).toBeLessThan(at); // the cgroup sync came first
  });

  it("leaves the umask and oom_score_adj alone when the container has none, and sets no rootfs up", () => {
    const plan = compileExecPlan(proc(), ctx());
    const c = codes(plan);
    for (const absent of ["Umask", "OomScoreAdj", "Console", "Mount", "PivotRoot", "FifoWait"])
      expect(c).not.toContain(absent);
  });

  it("gives the container's seccomp filter in runc's places, and LSM labels while still root", () => {
    const seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }],
    } as const;
    const withNnp = codes(compileExecPlan(proc(), ctx({ seccomp: structuredClone(seccomp) as never })));
    // no_new_privs: as late as possible, right before exec.
    expect(withNnp.slice(-2)).toEqual(["Seccomp", "Exec"]);
    const noNnp = codes(
      compileExecPlan(
        proc((p) => {
          p.noNewPrivileges = false;
          p.apparmorProfile = "prof";
        }),
        ctx({ seccomp: structuredClone(seccomp) as never }),
      ),
    );
    // Without it: while root, before the capabilities are dropped.
    expect(noNnp.indexOf("Seccomp")).toBeLessThan(noNnp.indexOf("CapBounding"));
    expect(noNnp.indexOf("WriteFile")).toBeLessThan(noNnp.indexOf("Setuser"));
    expect(
      compileExecPlan(
        proc((p) => (p.apparmorProfile = "prof")),
        ctx(),
      ),
    ).toContainEqual(op.writeFile("/proc/self/attr/exec", "exec prof"));
    expect(() =>
      compileExecPlan(
        proc((p) => (p.selinuxLabel = "x")),
        ctx({ selinux: false }),
      ),
    ).toThrow("selinux label is specified in config, but selinux is disabled or not supported");
  });

  it("gives HOME from the container's passwd only when the env has none", () => {
    const passwd = () => "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n";
    const user = proc((p) => {
      p.user = { uid: 1000, gid: 1000 };
      p.env = ["PATH=/bin"];
    });
    expect(compileExecPlan(user, ctx({ passwd })).at(-1)).toEqual(
      op.exec("sh", ["sh", "-c", "true"], ["PATH=/bin", "HOME=/home/u"]),
    );
    let read = false;
    const set = proc((p) => {
      p.env = ["HOME=/x"];
    });
    const plan = compileExecPlan(
      set,
      ctx({
        passwd: () => {
          read = true;
          return passwd();
        },
      }),
    );
    expect(plan.at(-1)).toEqual(op.exec("sh", ["sh", "-c", "true"], ["HOME=/x"]));
    expect(read).toBe(false);
  });
});

describe("compileExecPlan: session keyring", () => {
  it("joins the container's keyring by name once in its cgroups, without touching its permissions", () => {
    const plan = compileExecPlan(proc(), ctx({ sessionKeyring: "_ses.c1" }));
    const at = plan.findIndex((o) => o.code === OpCode.SessionKeyring);
    expect(plan[at]).toEqual({ code: OpCode.SessionKeyring, args: ["_ses.c1", 0n] });
    expect(at).toBeGreaterThan(plan.findIndex((o) => o.code === OpCode.Sync));
    expect(at).toBeLessThan(plan.findIndex((o) => o.code === OpCode.Exec));
    expect(codes(compileExecPlan(proc(), ctx()))).not.toContain("SessionKeyring");
  });
});
