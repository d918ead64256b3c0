import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultSpec } from "./default-spec.js";
import { ConfigError } from "./errors.js";
import { containerdSpec, podmanSpec } from "./test-specs.js";
import { parseSpec, resolveRootfs, validateSpec } from "./validate.js";

let bundle: string;
beforeAll(() => {
  bundle = mkdtempSync(join(tmpdir(), "tsrun-validate-"));
  mkdirSync(join(bundle, "rootfs"));
  writeFileSync(join(bundle, "file"), "");
});
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

/** The default spec with `edit` applied, validated; returns the error message or "ok". */
// biome-ignore lint/suspicious/noExplicitAny: tests write malformed values on purpose
type Loose = any;

function check(edit: (s: Loose) => void): string {
  const s: Loose = structuredClone(defaultSpec({ terminal: false }));
  edit(s);
  try {
    validateSpec(s);
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

describe("validateSpec", () => {
  it("accepts runc's default spec, rootless too", () => {
    expect(check(() => {})).toBe("ok");
    expect(() => validateSpec(defaultSpec({ rootless: true }))).not.toThrow();
  });

  it.each(["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.3.7-rc.1+build"])(
    "accepts ociVersion %s",
    (v) => {
      expect(check((s) => (s.ociVersion = v))).toBe("ok");
    },
  );

  it.each([
    ["2.0.0", "config.json: ociVersion: 2.0.0 is not supported (1.0.0 to 1.3.x are)"],
    ["0.9.0", "config.json: ociVersion: 0.9.0 is not supported (1.0.0 to 1.3.x are)"],
    ["1.4.0", "config.json: ociVersion: 1.4.0 is not supported (1.0.0 to 1.3.x are)"],
    ["banana", 'config.json: ociVersion: "banana" is not a semantic version'],
    ["1.0", 'config.json: ociVersion: "1.0" is not a semantic version'],
    ["01.0.0", 'config.json: ociVersion: "01.0.0" is not a semantic version'],
  ])("refuses ociVersion %s", (v, msg) => {
    expect(check((s) => (s.ociVersion = v))).toBe(msg);
  });

  it("refuses missing or malformed required fields", () => {
    expect(check((s) => delete s.ociVersion)).toBe("config.json: ociVersion: must be a string");
    expect(check((s) => delete s.root)).toBe("config.json: root: must be an object");
    expect(check((s) => delete s.process)).toBe("config.json: process: must be an object");
    expect(check((s) => (s.process.args = []))).toBe(
      "config.json: process.args: must be a non-empty array of strings",
    );
    expect(check((s) => (s.process.args = ["sh", 1]))).toBe(
      "config.json: process.args: must be a non-empty array of strings",
    );
    expect(check((s) => (s.process.cwd = "tmp"))).toBe("config.json: process.cwd: must be an absolute path");
    expect(check((s) => (s.process.user.uid = -1))).toBe(
      "config.json: process.user.uid: must be an integer from 0 to 4294967295",
    );
    expect(check((s) => (s.process.env = ["NOEQUALS"]))).toBe(
      'config.json: process.env[0]: "NOEQUALS" is not KEY=value',
    );
    expect(check((s) => (s.process.terminal = "yes"))).toBe(
      "config.json: process.terminal: must be a boolean",
    );
    expect(check((s) => (s.process.consoleSize = { height: 24 }))).toBe(
      "config.json: process.consoleSize.width: must be a non-negative integer",
    );
    expect(check((s) => (s.process.consoleSize = { height: 24, width: 80 }))).toBe("ok");
    expect(check((s) => (s.process.oomScoreAdj = 1001))).toBe(
      "config.json: process.oomScoreAdj: must be an integer from -1000 to 1000",
    );
  });

  it("checks namespaces", () => {
    expect(check((s) => s.linux.namespaces.push({ type: "foo" }))).toBe(
      'config.json: linux.namespaces[5].type: unknown namespace type "foo"',
    );
    expect(check((s) => s.linux.namespaces.push({ type: "pid" }))).toBe(
      "config.json: linux.namespaces[5].type: duplicate namespace pid",
    );
    expect(check((s) => (s.linux.namespaces[1] = { type: "network", path: "proc/1/ns/net" }))).toBe(
      "config.json: linux.namespaces[1].path: must be an absolute path",
    );
    expect(check((s) => (s.linux.namespaces[1] = { type: "network", path: "/proc/1/ns/net" }))).toBe("ok");
    expect(check((s) => s.linux.namespaces.push({ type: "time" }))).toBe(
      "config.json: linux.namespaces: time is not supported yet",
    );
    expect(check((s) => s.linux.namespaces.splice(4, 1))).toBe(
      "config.json: linux.namespaces: a mount namespace is required (tsrun has no chroot mode)",
    );
    expect(check((s) => s.linux.namespaces.splice(3, 1))).toBe(
      "config.json: hostname: requires a private uts namespace",
    );
  });

  it("allows id mappings only with a new user namespace", () => {
    const map = [{ containerID: 0, hostID: 1000, size: 65536 }];
    expect(check((s) => (s.linux.uidMappings = map))).toBe(
      "config.json: linux.uidMappings: requires a user namespace",
    );
    expect(check((s) => s.linux.namespaces.push({ type: "user" }))).toBe(
      "config.json: linux.uidMappings: is required with a new user namespace",
    );
    expect(
      check((s) => {
        s.linux.namespaces.push({ type: "user" });
        s.linux.uidMappings = map;
        s.linux.gidMappings = map;
      }),
    ).toBe("ok");
    expect(
      check((s) => {
        s.linux.namespaces.push({ type: "user", path: "/proc/1/ns/user" });
        s.linux.uidMappings = map;
      }),
    ).toBe("config.json: linux.uidMappings: must not be set when joining a user namespace by path");
    expect(
      check((s) => {
        s.linux.namespaces.push({ type: "user" });
        s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
      }),
    ).toBe("config.json: linux.uidMappings[0].size: must not be 0");
  });

  it("knows capability and rlimit names", () => {
    expect(check((s) => s.process.capabilities.bounding.push("CAP_FOO"))).toBe(
      'config.json: process.capabilities.bounding: unknown capability "CAP_FOO"',
    );
    expect(check((s) => s.process.capabilities.ambient.push("chown"))).toBe(
      'config.json: process.capabilities.ambient: unknown capability "chown"',
    );
    expect(check((s) => s.process.capabilities.effective.push("CAP_CHECKPOINT_RESTORE"))).toBe("ok");
    expect(check((s) => s.process.rlimits.push({ type: "RLIMIT_FOO", soft: 1, hard: 1 }))).toBe(
      'config.json: process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"',
    );
    expect(check((s) => s.process.rlimits.push({ type: "RLIMIT_NOFILE", soft: 1, hard: 1 }))).toBe(
      "config.json: process.rlimits[1].type: duplicate rlimit RLIMIT_NOFILE",
    );
    expect(check((s) => s.process.rlimits.push({ type: "RLIMIT_CORE", soft: 2, hard: 1 }))).toBe(
      "config.json: process.rlimits[1]: soft must not exceed hard",
    );
    expect(
      check((s) =>
        s.process.rlimits.push({
          type: "RLIMIT_CORE",
          soft: 2 ** 64,
          hard: 2 ** 64,
        }),
      ),
    ).toBe("ok");
  });

  it("checks mounts", () => {
    expect(check((s) => s.mounts.push({ destination: "../../etc", type: "tmpfs", source: "tmpfs" }))).toBe(
      "config.json: mounts[7].destination: must be an absolute path",
    );
    expect(check((s) => s.mounts.push({ destination: "/x", type: "bind" }))).toBe(
      "config.json: mounts[7].source: is required for a bind mount",
    );
    expect(check((s) => s.mounts.push({ destination: "/x", source: "x" }))).toBe(
      "config.json: mounts[7].type: is required",
    );
    expect(
      check((s) => s.mounts.push({ destination: "/x", type: "tmpfs", source: "t", options: ["tmpcopyup"] })),
    ).toBe("ok");
    expect(
      check((s) => s.mounts.push({ destination: "/x", type: "bind", source: "/x", options: ["tmpcopyup"] })),
    ).toBe("config.json: mounts[7].options: tmpcopyup applies to tmpfs mounts only");
    expect(
      check((s) =>
        s.mounts.push({ destination: "/x", type: "proc", source: "proc", options: ["tmpcopyup"] }),
      ),
    ).toBe("config.json: mounts[7].options: tmpcopyup applies to tmpfs mounts only");
    expect(
      check((s) =>
        s.mounts.push({ destination: "/x", type: "none", source: "/x", options: ["rbind", "rro"] }),
      ),
    ).toBe("config.json: mounts[7].options: rro is not supported yet");
    expect(
      check((s) =>
        s.mounts.push({
          destination: "/x",
          type: "bind",
          source: "/x",
          uidMappings: [{ containerID: 0, hostID: 1, size: 1 }],
        }),
      ),
    ).toBe("config.json: mounts[7].uidMappings is not supported yet");
    expect(check((s) => s.mounts.push({ destination: "/proc/self", type: "tmpfs", source: "t" }))).toBe(
      "config.json: mounts[7].destination: /proc/self: only procfs may be mounted over /proc",
    );
    expect(check((s) => s.mounts.push({ destination: "/proc/meminfo", type: "bind", source: "/m" }))).toBe(
      "ok",
    );
  });

  it("requires a procfs at /proc that no later mount hides", () => {
    const needs =
      "config.json: mounts: tsrun needs a proc mount at /proc in the container (the init reopens exec.fifo through it)";
    expect(check((s) => s.mounts.splice(0, 1))).toBe(needs);
    expect(check((s) => delete s.mounts)).toBe(needs);
    expect(check((s) => (s.mounts[0].destination = "/myproc"))).toBe(needs);
    expect(check((s) => (s.mounts = [{ destination: "/", type: "tmpfs", source: "t" }]))).toBe(needs);
    expect(check((s) => (s.mounts[0].destination = "//proc/"))).toBe("ok");
    expect(check((s) => s.mounts.push({ destination: "/", type: "tmpfs", source: "t" }))).toBe(
      "config.json: mounts[7].destination: a mount at / hides the proc mount at /proc, which tsrun needs " +
        "(the init reopens exec.fifo through it)",
    );
    expect(
      check((s) => {
        s.mounts.unshift({ destination: "/", type: "tmpfs", source: "t" });
        s.mounts.push({ destination: "/proc", type: "proc", source: "proc" });
      }),
    ).toBe("ok");
  });

  it("checks hooks", () => {
    expect(check((s) => (s.hooks = { prestart: [{ path: "/bin/true", args: ["true"], timeout: 5 }] }))).toBe(
      "ok",
    );
    expect(check((s) => (s.hooks = { createRuntime: [{ path: "true" }] }))).toBe(
      "config.json: hooks.createRuntime[0].path: must be an absolute path",
    );
    expect(check((s) => (s.hooks = { poststop: [{ path: "/x", timeout: 0 }] }))).toBe(
      "config.json: hooks.poststop[0].timeout: must be a positive integer",
    );
  });

  it("checks sysctls against the container's namespaces", () => {
    expect(
      check(
        (s) => (s.linux.sysctl = { "net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.x": "1" }),
      ),
    ).toBe("ok");
    expect(check((s) => (s.linux.sysctl = { "vm.swappiness": "1" }))).toBe(
      "config.json: linux.sysctl.vm.swappiness: is not in a separate kernel namespace",
    );
    expect(check((s) => (s.linux.sysctl = { "kernel.hostname": "x" }))).toBe(
      "config.json: linux.sysctl.kernel.hostname: conflicts with the hostname field",
    );
    expect(check((s) => (s.linux.sysctl = { "net..x": "1" }))).toBe(
      "config.json: linux.sysctl.net..x: is not a valid sysctl name",
    );
    expect(
      check((s) => {
        s.linux.namespaces.splice(1, 1);
        s.linux.sysctl = { "net.ipv4.ip_forward": "1" };
      }),
    ).toBe("config.json: linux.sysctl.net.ipv4.ip_forward: is not allowed in the host's network namespace");
  });

  it("checks devices and propagation", () => {
    expect(check((s) => (s.linux.devices = [{ path: "/dev/fuse", type: "c", major: 10, minor: 229 }]))).toBe(
      "ok",
    );
    expect(check((s) => (s.linux.devices = [{ path: "/dev/fuse", type: "x", major: 10, minor: 229 }]))).toBe(
      "config.json: linux.devices[0].type: must be one of c, b, u, p",
    );
    expect(check((s) => (s.linux.devices = [{ path: "/dev/fuse", type: "c" }]))).toBe(
      "config.json: linux.devices[0].major: is required for a character or block device",
    );
    expect(check((s) => (s.linux.rootfsPropagation = "rprivate"))).toBe("ok");
    expect(check((s) => (s.linux.rootfsPropagation = "rshared"))).toBe(
      "config.json: linux.rootfsPropagation rshared is not supported yet",
    );
    expect(check((s) => (s.linux.rootfsPropagation = "weird"))).toBe(
      'config.json: linux.rootfsPropagation: unknown propagation "weird"',
    );
  });

  it("takes the LSM fields as strings (applied as runc does, see compile)", () => {
    expect(check((s) => (s.process.apparmorProfile = "docker-default"))).toBe("ok");
    expect(check((s) => (s.process.selinuxLabel = "system_u:system_r:svirt_lxc_net_t:s0"))).toBe("ok");
    expect(check((s) => (s.linux.mountLabel = "system_u:object_r:svirt_sandbox_file_t:s0"))).toBe("ok");
    expect(check((s) => (s.process.apparmorProfile = 1))).toBe(
      "config.json: process.apparmorProfile: must be a string",
    );
  });

  it.each([
    "/proc/self/fd/7",
    "/proc/self/fd",
    "/proc/1/cwd",
    "/proc//thread-self/root/etc",
    "/proc/9/task/9/fd/3",
  ])("refuses a cwd through /proc to another process's files: %s (CVE-2024-21626)", (cwd) => {
    expect(check((s) => (s.process.cwd = cwd))).toBe(
      `config.json: process.cwd: ${cwd} leads through /proc to another process's files`,
    );
  });

  it("accepts other cwds under /proc", () => {
    expect(check((s) => (s.process.cwd = "/proc/sys"))).toBe("ok");
    expect(check((s) => (s.process.cwd = "/procfd/self/fd"))).toBe("ok");
  });

  it.each([
    ["process.scheduler", (s: Loose) => (s.process.scheduler = { policy: "SCHED_OTHER" })],
    ["process.ioPriority", (s: Loose) => (s.process.ioPriority = { class: "IOPRIO_CLASS_IDLE" })],
    ["process.execCPUAffinity", (s: Loose) => (s.process.execCPUAffinity = { initial: "0" })],
    ["linux.intelRdt", (s: Loose) => (s.linux.intelRdt = { closID: "x" })],
    ["linux.personality", (s: Loose) => (s.linux.personality = { domain: "LINUX32" })],
    ["linux.timeOffsets", (s: Loose) => (s.linux.timeOffsets = { monotonic: { secs: 1 } })],
    ["linux.netDevices", (s: Loose) => (s.linux.netDevices = { eth1: {} })],
    ["linux.memoryPolicy", (s: Loose) => (s.linux.memoryPolicy = { mode: "MPOL_BIND" })],
    ["linux.resources.blockIO", (s: Loose) => (s.linux.resources.blockIO = { weight: 10 })],
    [
      "linux.resources.hugepageLimits",
      (s: Loose) => (s.linux.resources.hugepageLimits = [{ pageSize: "2MB", limit: 1 }]),
    ],
    ["linux.resources.network", (s: Loose) => (s.linux.resources.network = { classID: 1 })],
    ["linux.resources.rdma", (s: Loose) => (s.linux.resources.rdma = { mlx: { hcaHandles: 1 } })],
    ["linux.resources.unified", (s: Loose) => (s.linux.resources.unified = { "memory.high": "1" })],
    ["linux.resources.memory.swappiness", (s: Loose) => (s.linux.resources.memory = { swappiness: 10 })],
    ["linux.resources.memory.kernel", (s: Loose) => (s.linux.resources.memory = { kernel: 10 })],
    ["linux.resources.cpu.realtimeRuntime", (s: Loose) => (s.linux.resources.cpu = { realtimeRuntime: 10 })],
    ["linux.resources.cpu.idle", (s: Loose) => (s.linux.resources.cpu = { idle: 1 })],
  ])("refuses %s as not supported yet", (field, edit) => {
    expect(check(edit)).toBe(`config.json: ${field} is not supported yet`);
  });

  it("accepts the resources it applies, and empty values of the others", () => {
    expect(
      check((s) => {
        s.linux.resources = {
          devices: [
            { allow: false, access: "rwm" },
            { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
          ],
          memory: { limit: 16777216, reservation: 8388608, swap: 33554432, disableOOMKiller: false },
          cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0-1", mems: "0" },
          pids: { limit: 2048 },
          hugepageLimits: [],
          blockIO: {},
          unified: null,
        };
        s.linux.seccomp = null;
        s.annotations = { a: "b" };
        s.hooks = { createContainer: [{ path: "/bin/true" }] };
      }),
    ).toBe("ok");
    expect(check((s) => (s.linux.resources = { devices: [{ allow: true, type: "x" }] }))).toBe(
      "config.json: linux.resources.devices[0].type: must be one of a, b, c",
    );
    expect(check((s) => (s.linux.resources = { devices: [{ allow: true, access: "rwx" }] }))).toBe(
      "config.json: linux.resources.devices[0].access: must be made of r, w and m",
    );
    expect(check((s) => (s.linux.resources = { devices: [{ allow: "yes" }] }))).toBe(
      "config.json: linux.resources.devices[0].allow: must be a boolean",
    );
    expect(check((s) => (s.linux.resources = { memory: { limit: "1g" } }))).toBe(
      "config.json: linux.resources.memory.limit: must be a number",
    );
  });
});

describe("parseSpec", () => {
  it("parses, validates and checks the rootfs against the bundle", () => {
    const spec = parseSpec(JSON.stringify(defaultSpec()), bundle);
    expect(spec.process?.args).toEqual(["sh"]);
    expect(resolveRootfs(spec, bundle)).toBe(join(bundle, "rootfs"));
  });

  it("reports bad json with its line and column", () => {
    expect(() => parseSpec('{\n  "ociVersion": "1.2.0",\n  "root": }', bundle)).toThrow(
      "config.json: invalid json at line 3 column 11: unexpected token '}'",
    );
    expect(() => parseSpec("", bundle)).toThrow(/^config\.json: invalid json/);
    expect(() => parseSpec("[]", bundle)).toThrow("config.json: must be an object");
  });

  it("refuses a missing or non-directory root", () => {
    const spec = defaultSpec();
    spec.root = { path: "nope" };
    expect(() => parseSpec(JSON.stringify(spec), bundle)).toThrow(
      `config.json: root.path: ${join(bundle, "nope")}: no such file or directory`,
    );
    spec.root = { path: "file" };
    expect(() => parseSpec(JSON.stringify(spec), bundle)).toThrow(
      `config.json: root.path: ${join(bundle, "file")}: not a directory`,
    );
    spec.root = { path: join(bundle, "rootfs") };
    expect(() => parseSpec(JSON.stringify(spec), "/nonexistent")).not.toThrow();
  });
});

describe("real clients' specs", () => {
  it("accepts containerd's", () => {
    expect(() => validateSpec(containerdSpec())).not.toThrow();
  });

  it("accepts podman's, seccomp profile included", () => {
    expect(() => validateSpec(podmanSpec())).not.toThrow();
  });

  it("checks linux.seccomp (details in seccomp/compile-seccomp.test.ts)", () => {
    const s = podmanSpec();
    if (s.linux?.seccomp) s.linux.seccomp.defaultAction = "SCMP_ACT_SOMETIMES";
    expect(() => validateSpec(s)).toThrow(
      'config.json: linux.seccomp.defaultAction: unknown action "SCMP_ACT_SOMETIMES"',
    );
  });
});
