// The LSM half of the plan, as runc 1.1 applies it, for `create` (compile.ts) and `exec` alike (runc's setns
// init applies the same profile and label to every exec'd process).

import { ConfigError } from "./errors.js";
import type { HostFacts } from "./host-facts.js";
import { type Op, op } from "./plan.js";
import type { Process } from "./spec.js";

/**
 * runc's apparmor.ApplyProfile: "exec <profile>" to the task's exec attribute, which takes effect at the next
 * execve. Like runc 1.1 it is written whether or not the host has AppArmor: without it the kernel refuses the
 * write (EINVAL) and the container fails to start, as runc's does.
 */
export function apparmorOps(process: Process, host: Pick<HostFacts, "apparmorAttrDir">): Op[] {
  if (!process.apparmorProfile) return [];
  const attr = host.apparmorAttrDir ? "/proc/self/attr/apparmor/exec" : "/proc/self/attr/exec";
  return [op.writeFile(attr, `exec ${process.apparmorProfile}`)];
}

/**
 * runc's selinux.SetExecLabel: the label the process gets at execve. runc refuses a label on a host without
 * SELinux (at validation, before anything is made), with this message.
 */
export function selinuxOps(process: Process, host: Pick<HostFacts, "selinux">): Op[] {
  if (!process.selinuxLabel) return [];
  if (!host.selinux)
    throw new ConfigError(
      "process.selinuxLabel",
      "selinux label is specified in config, but selinux is disabled or not supported",
    );
  return [op.writeFile("/proc/self/attr/exec", process.selinuxLabel)];
}
