import type { Resources } from "../spec.js";

/** One container's cgroups, on every hierarchy of the host. Knows nothing about containers. */
export interface CgroupManager {
  /** Controller → absolute directory, as in runc's state.json: "memory", "name=systemd", and "" for cgroup v2. */
  readonly paths: Record<string, string>;
  /** mkdir -p every directory (idempotent); v1 cpuset levels get the parent's cpus/mems, v2 ancestors enable controllers. */
  create(): void;
  /** Moves `pid` into the cgroup on every hierarchy. */
  apply(pid: number): void;
  /** Applies linux.resources; undefined changes nothing. */
  set(resources: Resources | undefined): void;
  /** Every pid in the cgroup and its descendants, sorted. */
  pids(): number[];
  /** Freezes every process, returning once they are all frozen. */
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Removes every directory (and any sub-cgroups), retrying briefly while the kernel says EBUSY; missing is fine. */
  destroy(): void;
}
