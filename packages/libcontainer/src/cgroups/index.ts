// The cgroups module: v1, v2 and hybrid hosts, runc's paths and files. It knows nothing about containers.

export type { CgroupLayout, CgroupMount } from "./detect.js";
export { detectLayout, parseSelfCgroup } from "./detect.js";
export { CgroupError } from "./errors.js";
export { type CgroupManagerOptions, cgroupManager, cgroupManagerFromPaths } from "./manager.js";
export { cleanCgroupsPath, UNIFIED_KEY } from "./paths.js";
export { cgroupAttachPrimed, primeCgroupAttach } from "./prime.js";
export type { CgroupManager } from "./types.js";
export { cpuSharesToWeight, swapToV2 } from "./values.js";
