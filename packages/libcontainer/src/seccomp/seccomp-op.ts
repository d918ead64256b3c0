// linux.seccomp as one plan op (OP_SECCOMP); compile.ts decides where it goes in the init's order.
import { type Op, op } from "../plan.js";
import type { Seccomp } from "../spec.js";
import { compileSeccomp } from "./compile-seccomp.js";

export function seccompOp(spec: Seccomp | undefined | null): Op | undefined {
  if (!spec) return undefined;
  const c = compileSeccomp(spec);
  return c && op.seccomp(c.program, c.flags);
}
