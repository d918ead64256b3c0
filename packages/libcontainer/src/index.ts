// --- spec: types, parsing, validation, defaults, and the plan compiler ---

export { CgroupError, cgroupAttachPrimed } from "./cgroups/index.js";
export { type CompileContext, compilePlan, SYNC_LABELS, type SyncLabels } from "./compile.js";
export { type CgroupHierarchy, type CgroupLayout, hostCgroupLayout } from "./compile-cgroup.js";
export { compileExecPlan, type ExecCompileContext, namespacesToJoin } from "./compile-exec.js";
export { type DefaultSpecOptions, defaultSpec, OCI_VERSION } from "./default-spec.js";
export { ConfigError } from "./errors.js";
export { type HostFacts, type PathKind, probeHost } from "./host-facts.js";
export type * from "./spec.js";
export { parseSpec, resolveRootfs, validateSpec } from "./validate.js";

// --- lifecycle: create, start, run, kill, delete, state, list ---

export { ContainerError } from "./container-error.js";
export { validateId } from "./container-id.js";
export { type CreateOptions, createContainer, loadBundle } from "./create.js";
export { deleteContainer } from "./delete.js";
export { eventLine, oomCount, statsEvent, type WatchOptions, watchEvents } from "./events.js";
export { type ExecOptions, execProcess } from "./exec.js";
export { type ExecOverrides, execProcessFromConfig, readProcessFile } from "./exec-process.js";
export { executorPath } from "./executor.js";
export { features } from "./features.js";
export { killContainer, parseSignal } from "./kill.js";
export { exitNow } from "./libc.js";
export { pauseContainer, resumeContainer } from "./pause.js";
export { containerPids, filterPsOutput, pidsJson, psTable } from "./ps.js";
export { containerState, listContainers } from "./query.js";
export { type RunOptions, runContainer } from "./run.js";
export { startContainer } from "./start.js";
export type { Status } from "./state.js";
export { type OciState, ociState } from "./state-json.js";
export { cgroupStats, type Json, toJson } from "./stats.js";
export { SyscallError } from "./syscall-error.js";
export {
  emptyUpdate,
  type ResourceUpdate,
  ramInBytes,
  type UpdateFlags,
  updateContainer,
  updateFromFlags,
  updateFromJson,
} from "./update.js";
