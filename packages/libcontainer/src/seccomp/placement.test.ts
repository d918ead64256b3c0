import { describe, expect, it } from "vitest";
import { type CompileContext, compilePlan, SYNC_LABELS } from "../compile.js";
import { OpCode, type Plan } from "../plan.js";
import { podmanSpec, testHost } from "../test-specs.js";

const ctx: CompileContext = {
  bundle: "/b",
  rootfs: "/r",
  noPivot: false,
  consoleSocket: false,
  fifo: true,
  preserveFds: 0,
  host: testHost(),
};
const at = (plan: Plan, code: OpCode): number => plan.findIndex((o) => o.code === code);

describe("where compilePlan loads the seccomp filter (runc's standard init order)", () => {
  it("without no_new_privs: right after the ready sync, before the capabilities are dropped", () => {
    const spec = podmanSpec();
    if (spec.process) spec.process.noNewPrivileges = false;
    const plan = compilePlan(spec, ctx);
    const seccomp = at(plan, OpCode.Seccomp);
    const ready = plan.findIndex((o) => o.code === OpCode.Sync && o.args[0] === SYNC_LABELS.ready);
    expect(seccomp).toBeGreaterThan(ready);
    expect(seccomp).toBeLessThan(at(plan, OpCode.CapBounding));
    expect(seccomp).toBeLessThan(at(plan, OpCode.Caps));
    expect(plan.filter((o) => o.code === OpCode.Seccomp)).toHaveLength(1);
  });

  it("with no_new_privs: after the identity change and the lookup, before the exec.fifo wait", () => {
    const spec = podmanSpec();
    if (spec.process) spec.process.noNewPrivileges = true;
    const plan = compilePlan(spec, ctx);
    const seccomp = at(plan, OpCode.Seccomp);
    expect(seccomp).toBeGreaterThan(at(plan, OpCode.NoNewPrivs));
    expect(seccomp).toBeGreaterThan(at(plan, OpCode.Caps));
    expect(seccomp).toBeGreaterThan(at(plan, OpCode.Lookup));
    expect(seccomp).toBe(at(plan, OpCode.FifoWait) - 1);
    const program = plan[seccomp]?.args[0];
    expect(Buffer.isBuffer(program) && program.length > 0).toBe(true);
  });

  it("leaves the op out without linux.seccomp", () => {
    const spec = podmanSpec();
    delete spec.linux?.seccomp;
    expect(at(compilePlan(spec, ctx), OpCode.Seccomp)).toBe(-1);
  });
});
