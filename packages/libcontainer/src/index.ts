// --- spec: types, parsing, validation, defaults, and the plan compiler ---

export { type CompileContext, compilePlan, SYNC_LABELS, type SyncLabels } from "./compile.js";
export { type CgroupHierarchy, type CgroupLayout, hostCgroupLayout } from "./compile-cgroup.js";
export { type DefaultSpecOptions, defaultSpec, OCI_VERSION } from "./default-spec.js";
export { ConfigError } from "./errors.js";
export { type HostFacts, type PathKind, probeHost } from "./host-facts.js";
export type * from "./spec.js";
export { parseSpec, resolveRootfs, validateSpec } from "./validate.js";
