// linux.seccomp: podman's default profile loads, ERRNO rules deny with the errno asked for, and a notify profile
// hands the listener to an agent on listenerPath (runtime-spec's ContainerProcessState), which answers.
// Both placements are covered: with no_new_privs (late, just before the exec.fifo wait) and without (before the
// capabilities are dropped).
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConsoleSocketServer, recvFds } from "../../packages/fdpass/src/index.js";
import type { Seccomp, Spec } from "../../packages/libcontainer/src/index.js";
import { IS_RUNC, rt, useBundles } from "./helpers.js";

const { bundle } = useBundles();

const podmanProfile = (): Seccomp =>
  JSON.parse(
    readFileSync(
      new URL("../../packages/libcontainer/src/seccomp/fixtures/podman-default.json", import.meta.url),
      "utf8",
    ),
  ) as Seccomp;

async function run(script: string, seccomp: Seccomp, nnp: boolean, edit: (s: Spec) => void = () => {}) {
  const b = bundle((s) => {
    s.process!.args = ["sh", "-c", script];
    s.process!.noNewPrivileges = nnp;
    s.linux!.seccomp = seccomp;
    edit(s);
  });
  return { b, r: await rt(b, ["run", "sc"]) };
}

const denyMkdir = (errnoRet?: number): Seccomp => ({
  defaultAction: "SCMP_ACT_ALLOW",
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", ...(errnoRet ? { errnoRet } : {}) }],
});

describe.each([true, false])("seccomp with noNewPrivileges %s", (nnp) => {
  it("loads podman's default profile; ls works", async () => {
    const { r } = await run("ls /; grep Seccomp /proc/self/status", podmanProfile(), nnp);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toContain("bin");
    // Filter mode, and exactly one filter.
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(r.stdout).toMatch(/^Seccomp_filters:\s+1$/m);
  });

  it("a denied mkdir fails with EPERM while ls works", async () => {
    const { r } = await run("ls / >/dev/null && echo listed; mkdir /tmp/x; echo rc=$?", denyMkdir(), nnp);
    expect(r.stdout).toContain("listed");
    expect(r.stdout).toContain("rc=1");
    expect(r.stderr).toContain("Operation not permitted");
    expect(r.code).toBe(0);
  });

  it("honours errnoRet (ENOSPC)", async () => {
    const { r } = await run("mkdir /tmp/x", denyMkdir(28), nnp);
    expect(r.stderr).toContain("No space left on device");
    expect(r.code).toBe(1);
  });

  it("defaultErrnoRet applies to what no rule allows", async () => {
    const { r } = await run(
      "mkdir /tmp/x",
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 18 }],
      },
      nnp,
    );
    expect(r.stderr).toContain("Invalid cross-device link");
  });
});

describe("seccomp in a user namespace", () => {
  it.each([true, false])(
    "denies as asked (noNewPrivileges %s: CAP_SYS_ADMIN of the new namespace suffices)",
    async (nnp) => {
      const b = bundle((s) => {
        s.linux!.namespaces!.push({ type: "user" });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.process!.args = ["sh", "-c", "id -u; mkdir /tmp/x"];
        s.process!.noNewPrivileges = nnp;
        s.linux!.seccomp = denyMkdir(28);
      });
      chmodSync(b.dir, 0o755); // the mapped root must reach the rootfs
      const r = await rt(b, ["run", "sc-userns"]);
      expect(r.stdout).toBe("0\n");
      expect(r.stderr).toContain("No space left on device");
      expect(r.code).toBe(1);
    },
  );
});

describe("the -ENOSYS stub (runc's patchbpf)", () => {
  it.each([true, false])(
    "a syscall newer than the profile gets ENOSYS, an old unlisted one the default EPERM (noNewPrivileges %s)",
    async (nnp) => {
      const profile = podmanProfile();
      delete profile.defaultErrnoRet; // default ERRNO, so EPERM
      const b = bundle((s) => {
        s.process!.args = ["/bin/nosys"];
        s.process!.noNewPrivileges = nnp;
        s.linux!.seccomp = profile;
      });
      // A static probe: syscall 1000 exists nowhere yet; vserver (236) exists but podman's profile does not list it.
      const src = join(b.dir, "nosys.c");
      writeFileSync(
        src,
        `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  errno = 0; syscall(1000); printf("1000: %s\\n", strerror(errno));
  errno = 0; syscall(236); printf("236: %s\\n", strerror(errno));
  return 0;
}
`,
      );
      execFileSync("gcc", ["-static", "-O2", "-o", join(b.dir, "rootfs/bin/nosys"), src]);
      const r = await rt(b, ["run", "sc-enosys"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("1000: Function not implemented\n236: Operation not permitted\n");
      expect(r.code).toBe(0);
    },
  );
});

describe("seccomp errors", () => {
  it("an empty profile means no filter, as in runc", async () => {
    const { r } = await run("grep Seccomp: /proc/self/status", { defaultAction: "" }, true);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^Seccomp:\s+0$/m);
  });

  // runc 1.1.5 refuses every flag ("seccomp flags are not yet supported by runc").
  it.skipIf(IS_RUNC)(
    "a filter the kernel refuses fails create with the reason, leaving nothing behind",
    async () => {
      // WAIT_KILLABLE_RECV is only valid together with a listener.
      const { r } = await run(
        "true",
        { ...denyMkdir(), flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] },
        true,
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("Invalid argument");
    },
  );

  it.skipIf(IS_RUNC)("an unknown action fails create and names it, leaving nothing behind", async () => {
    const { r } = await run("true", { defaultAction: "SCMP_ACT_SOMETIMES" }, true);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("linux.seccomp.defaultAction: unknown action");
    expect(r.stderr).toContain("SCMP_ACT_SOMETIMES");
  });
});

// --- a tiny seccomp agent: receive one notification, answer it with an errno, close ---
// koffi is libcontainer's dependency, not the workspace root's.
const koffi = createRequire(new URL("../../packages/libcontainer/package.json", import.meta.url))(
  "koffi",
) as typeof import("koffi");
const libc = koffi.load("libc.so.6");
const ioctl = libc.func("int ioctl(int fd, unsigned long req, void *arg)");
const poll = libc.func("int poll(_Inout_ void *fds, unsigned long nfds, int timeout)");
const close = libc.func("int close(int fd)");
// linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) (80 bytes) and _IOWR('!', 1, struct seccomp_notif_resp) (24).
const SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100;
const SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101;
const NR_MKDIR = 83;
const NR_MKDIRAT = 258;
const EXDEV = 18;

function waitReadable(fd: number, ms: number): Promise<boolean> {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(1, 4);
  return new Promise((resolve, reject) =>
    poll.async(pfd, 1, ms, (err: unknown, n: number) => (err ? reject(err) : resolve(n > 0))),
  );
}

/** Answers the first notification with -EXDEV; returns the syscall number it saw. */
async function answerOne(listener: number): Promise<number> {
  if (!(await waitReadable(listener, 20_000))) throw new Error("no seccomp notification within 20 s");
  const req = Buffer.alloc(80);
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
    throw new Error(`NOTIF_RECV: errno ${koffi.errno()}`);
  const resp = Buffer.alloc(24);
  req.copy(resp, 0, 0, 8); // id
  resp.writeInt32LE(-EXDEV, 16);
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0)
    throw new Error(`NOTIF_SEND: errno ${koffi.errno()}`);
  return req.readInt32LE(16); // data.nr
}

describe("SCMP_ACT_NOTIFY", () => {
  it.each([
    [true, false],
    [false, false],
    [false, true],
  ])(
    "delivers the listener and the container state to the agent on listenerPath (noNewPrivileges %s, user namespace %s)",
    async (nnp, userns) => {
      const b = bundle((s) => {
        if (!userns) return;
        s.linux!.namespaces!.push({ type: "user" });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      });
      chmodSync(b.dir, 0o755);
      // The socket lives in the bundle directory, which the helpers remove.
      const listenerPath = join(b.dir, "agent.sock");
      const server = ConsoleSocketServer.listen(listenerPath);
      const agent = (async () => {
        const conn = await server.acceptConnection();
        try {
          const msg = await recvFds(conn, { maxFds: 1, maxPayload: 65536 });
          const nr = await answerOne(msg.fds[0] as number);
          for (const fd of msg.fds) close(fd);
          return { payload: JSON.parse(msg.payload.toString()), nr, fds: msg.fds.length };
        } finally {
          close(conn);
        }
      })();
      // The listener must not reach the container's process: only the agent holds it.
      b.spec.process!.args = ["sh", "-c", "ls -l /proc/self/fd/; mkdir /tmp/x; mkdir /tmp/y; echo done"];
      b.spec.process!.noNewPrivileges = nnp;
      b.spec.annotations = { "org.example/test": "seccomp" };
      b.spec.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        listenerPath,
        listenerMetadata: "meta-for-agent",
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }],
      };
      b.write();
      try {
        const r = await rt(b, ["run", "sc-notify"]);
        const seen = await agent;
        expect(seen.fds).toBe(1);
        expect([NR_MKDIR, NR_MKDIRAT]).toContain(seen.nr);
        expect(seen.payload.fds).toEqual(["seccompFd"]);
        expect(seen.payload.metadata).toBe("meta-for-agent");
        expect(seen.payload.pid).toBeGreaterThan(0);
        expect(seen.payload.state.id).toBe("sc-notify");
        expect(seen.payload.state.pid).toBe(seen.payload.pid);
        expect(seen.payload.state.status).toBe("creating");
        expect(seen.payload.state.bundle).toBe(b.dir);
        expect(seen.payload.state.annotations).toEqual({ "org.example/test": "seccomp" });
        expect(typeof seen.payload.ociVersion).toBe("string");
        // The first mkdir got the agent's answer; the agent then closed the listener, so the second gets ENOSYS.
        expect(r.stderr).toContain("Invalid cross-device link");
        expect(r.stderr).toContain("Function not implemented");
        expect(r.stdout).toMatch(/done\n$/);
        expect(r.stdout).not.toContain("seccomp");
        expect(r.code).toBe(0);
      } finally {
        server.close();
      }
    },
  );

  it("fails create when no agent listens, leaving nothing behind", async () => {
    const { r } = await run(
      "true",
      {
        defaultAction: "SCMP_ACT_ALLOW",
        listenerPath: "/nonexistent/agent.sock",
        syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }],
      },
      true,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("/nonexistent/agent.sock");
  });
});
