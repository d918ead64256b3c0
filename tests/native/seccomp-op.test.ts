// OP_SECCOMP in the executor alone: it loads the bytes it is given with the flags it is given, and refuses
// programs whose framing is wrong before calling the kernel. The plan has no clone, so stage 0 runs the ops.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { op } from "../../packages/libcontainer/src/plan.js";
import { compileSeccomp } from "../../packages/libcontainer/src/seccomp/compile-seccomp.js";
import { runPlan } from "./harness.js";

const ENV = ["PATH=/bin:/usr/bin"];
const dir = mkdtempSync(join(tmpdir(), "tsrun-seccomp-op-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const denyMkdir = compileSeccomp({
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28 }],
});

describe("OP_SECCOMP", () => {
  it("loads the program: what it denies fails with its errno after exec", async () => {
    const program = denyMkdir?.program ?? Buffer.alloc(0);
    const r = await runPlan([
      op.seccomp(program, 0n),
      op.exec("/bin/busybox", ["sh", "-c", `grep Seccomp: /proc/self/status; mkdir ${dir}/x`], ENV),
    ]);
    expect(r.errors).toEqual([]);
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(r.stderr).toContain("No space left on device");
    expect(r.stage0).toBe(1);
  });

  it.each([
    [Buffer.alloc(7), "plan: seccomp: a program of 7 bytes is not 1 to 4096 instructions"],
    [Buffer.alloc(0), "plan: seccomp: a program of 0 bytes is not 1 to 4096 instructions"],
    [Buffer.alloc(8 * 4097), "plan: seccomp: a program of 32776 bytes is not 1 to 4096 instructions"],
  ])("refuses a malformed program (%#)", async (program, message) => {
    const r = await runPlan([op.seccomp(program, 0n), op.exec("/bin/busybox", ["true"], ENV)]);
    expect(r.errors).toEqual([message]);
    expect(r.stage0).toBe(1);
  });

  it("reports what the kernel refuses, with the flags", async () => {
    // WAIT_KILLABLE_RECV (1 << 5) needs NEW_LISTENER.
    const r = await runPlan([
      op.seccomp(denyMkdir?.program ?? Buffer.alloc(0), 32n),
      op.exec("/bin/busybox", ["true"], ENV),
    ]);
    expect(r.errors).toEqual(["seccomp set filter (flags 0x20): Invalid argument"]);
    expect(r.stage0).toBe(1);
  });
});
