// Parsing and validation of config.json. Everything tsrun cannot honour is refused here, before any state, mount,
// cgroup or process exists: malformed fields, and spec features tsrun does not implement yet (never ignored).

import { statSync } from "node:fs";
import { isAbsolute, posix, resolve } from "node:path";
import { isCapability } from "./capabilities.js";
import { ConfigError } from "./errors.js";
import { jsonErrorMessage } from "./json-error.js";
import { isBindMount, PROPAGATION, parseMountOptions } from "./mount-options.js";
import { hasNamespace, isNamespaceType } from "./namespaces.js";
import { isRlimit } from "./rlimits.js";
import { validateSeccomp } from "./seccomp/validate-seccomp.js";
import type { Mount, Namespace, Spec } from "./spec.js";
import { findNul } from "./spec-strings.js";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isUint = (v: unknown, max = 2 ** 32 - 1): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
/** A field counts as set unless absent, null, an empty array or an empty object. */
const isSet = (v: unknown): boolean =>
  v !== undefined &&
  v !== null &&
  !(Array.isArray(v) && v.length === 0) &&
  !(isObj(v) && Object.keys(v).length === 0);

const fail = (field: string, message: string): never => {
  throw new ConfigError(field, message);
};

function object(v: unknown, field: string): Obj {
  if (!isObj(v)) fail(field, "must be an object");
  return v as Obj;
}

function optObject(v: unknown, field: string): Obj | undefined {
  return v === undefined || v === null ? undefined : object(v, field);
}

function optArray(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, "must be an array");
  return v as unknown[];
}

function optString(v: unknown, field: string): void {
  if (v !== undefined && v !== null && typeof v !== "string") fail(field, "must be a string");
}

function optBool(v: unknown, field: string): void {
  if (v !== undefined && v !== null && typeof v !== "boolean") fail(field, "must be a boolean");
}

function optStrArray(v: unknown, field: string): void {
  if (v !== undefined && v !== null && !isStrArray(v)) fail(field, "must be an array of strings");
}

function absPath(v: unknown, field: string): void {
  if (typeof v !== "string" || !isAbsolute(v)) fail(field, "must be an absolute path");
}

function refuse(v: unknown, field: string): void {
  if (isSet(v)) throw ConfigError.unsupported(field);
}

/** "1.0.0" through "1.3.x", with any pre-release or build suffix ("1.0.2-dev"); runc itself checks nothing. */
function validateVersion(v: unknown): void {
  if (typeof v !== "string") fail("ociVersion", "must be a string");
  const m = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(
    v as string,
  );
  if (!m) fail("ociVersion", `${JSON.stringify(v)} is not a semantic version`);
  const [major, minor] = [Number(m?.[1]), Number(m?.[2])];
  if (major !== 1 || minor > 3) fail("ociVersion", `${v} is not supported (1.0.0 to 1.3.x are)`);
}

/** Parses config.json text, validates it, and checks that the root filesystem exists under the bundle. */
export function parseSpec(json: string, bundlePath: string): Spec {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new ConfigError("", jsonErrorMessage(json, (e as Error).message));
  }
  validateSpec(doc);
  resolveRootfs(doc, bundlePath);
  return doc;
}

/** root.path made absolute against the bundle; it must be an existing directory. */
export function resolveRootfs(spec: Spec, bundlePath: string): string {
  const path = resolve(bundlePath, spec.root?.path ?? "");
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    fail("root.path", `${path}: no such file or directory`);
  }
  if (!dir) fail("root.path", `${path}: not a directory`);
  return path;
}

/** Throws a ConfigError naming the first field that is wrong or unsupported. */
export function validateSpec(doc: unknown): asserts doc is Spec {
  const spec = object(doc, "");
  const nul = findNul(spec);
  if (nul !== undefined) fail(nul, "contains a NUL byte");
  validateVersion(spec.ociVersion);
  const root = object(spec.root, "root");
  if (typeof root.path !== "string" || root.path === "") fail("root.path", "must be a non-empty string");
  optBool(root.readonly, "root.readonly");
  optString(spec.hostname, "hostname");
  optString(spec.domainname, "domainname");
  const annotations = optObject(spec.annotations, "annotations");
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (typeof v !== "string") fail(`annotations.${k}`, "must be a string");
  }
  const linux = optObject(spec.linux, "linux") ?? {};
  const namespaces = validateNamespaces(linux);
  validateProcess(spec.process);
  validateMounts(spec.mounts);
  validateHooks(spec.hooks);
  validateLinux(linux, namespaces);
  if (spec.hostname && !hasNamespace(namespaces, "uts")) fail("hostname", "requires a private uts namespace");
  if (spec.domainname && !hasNamespace(namespaces, "uts"))
    fail("domainname", "requires a private uts namespace");
}

function validateNamespaces(linux: Obj): Namespace[] {
  const seen = new Set<string>();
  const list = optArray(linux.namespaces, "linux.namespaces");
  list.forEach((n, i) => {
    const field = `linux.namespaces[${i}]`;
    const ns = object(n, field);
    if (typeof ns.type !== "string" || !isNamespaceType(ns.type)) {
      fail(`${field}.type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
    }
    if (seen.has(ns.type as string)) fail(`${field}.type`, `duplicate namespace ${ns.type}`);
    seen.add(ns.type as string);
    if (ns.path !== undefined && ns.path !== null && ns.path !== "") absPath(ns.path, `${field}.path`);
    // clone(2) cannot create a time namespace (its flag collides with the exit signal bits), and runc 1.1 does
    // not know the type either.
    if (ns.type === "time") throw ConfigError.unsupported("linux.namespaces: time");
  });
  // Without a mount namespace every mount of the plan would land in the host's; runc would chroot instead.
  if (!seen.has("mount"))
    fail("linux.namespaces", "a mount namespace is required (tsrun has no chroot mode)");
  return list as Namespace[];
}

/** process (of config.json, or a process.json given to exec): throws a ConfigError naming the field. */
export function validateProcess(v: unknown): void {
  const p = object(v, "process");
  optBool(p.terminal, "process.terminal");
  const box = optObject(p.consoleSize, "process.consoleSize");
  if (box) {
    if (!isUint(box.height)) fail("process.consoleSize.height", "must be a non-negative integer");
    if (!isUint(box.width)) fail("process.consoleSize.width", "must be a non-negative integer");
  }
  const user = object(p.user, "process.user");
  if (!isUint(user.uid)) fail("process.user.uid", "must be an integer from 0 to 4294967295");
  if (!isUint(user.gid)) fail("process.user.gid", "must be an integer from 0 to 4294967295");
  if (user.umask !== undefined && user.umask !== null && !isUint(user.umask, 0o777)) {
    fail("process.user.umask", "must be an integer from 0 to 0777");
  }
  optArray(user.additionalGids, "process.user.additionalGids").forEach((g, i) => {
    if (!isUint(g)) fail(`process.user.additionalGids[${i}]`, "must be an integer from 0 to 4294967295");
  });
  if (!isStrArray(p.args) || p.args.length === 0)
    fail("process.args", "must be a non-empty array of strings");
  if ((p.args as string[])[0] === "") fail("process.args[0]", "must not be empty");
  optStrArray(p.env, "process.env");
  (p.env as string[] | undefined)?.forEach((e, i) => {
    if (!e.includes("=")) fail(`process.env[${i}]`, `${JSON.stringify(e)} is not KEY=value`);
  });
  absPath(p.cwd, "process.cwd");
  // A cwd through another process's fds or root (CVE-2024-21626) is never a directory of the container; the
  // executor also checks the cwd it ends up in, this only makes the error early and clear.
  if (
    /^\/+proc\/+(self|thread-self|\d+)(\/+task\/+\d+)?\/+(fd|cwd|root|map_files)(\/|$)/.test(p.cwd as string)
  )
    fail("process.cwd", `${p.cwd} leads through /proc to another process's files`);
  optBool(p.noNewPrivileges, "process.noNewPrivileges");
  if (p.oomScoreAdj !== undefined && p.oomScoreAdj !== null) {
    if (!isInt(p.oomScoreAdj) || p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000) {
      fail("process.oomScoreAdj", "must be an integer from -1000 to 1000");
    }
  }
  const caps = optObject(p.capabilities, "process.capabilities");
  for (const set of ["bounding", "effective", "inheritable", "permitted", "ambient"]) {
    const field = `process.capabilities.${set}`;
    const list = optArray(caps?.[set], field);
    list.forEach((c, i) => {
      if (typeof c !== "string") fail(`${field}[${i}]`, "must be a string");
      if (!isCapability(c as string)) fail(field, `unknown capability ${JSON.stringify(c)}`);
    });
  }
  const seen = new Set<string>();
  optArray(p.rlimits, "process.rlimits").forEach((r, i) => {
    const field = `process.rlimits[${i}]`;
    const rl = object(r, field);
    if (typeof rl.type !== "string" || !isRlimit(rl.type))
      fail(`${field}.type`, `unknown rlimit ${JSON.stringify(rl.type)}`);
    if (seen.has(rl.type as string)) fail(`${field}.type`, `duplicate rlimit ${rl.type}`);
    seen.add(rl.type as string);
    if (!isUint(rl.soft, Number.MAX_VALUE)) fail(`${field}.soft`, "must be a non-negative integer");
    if (!isUint(rl.hard, Number.MAX_VALUE)) fail(`${field}.hard`, "must be a non-negative integer");
    if ((rl.soft as number) > (rl.hard as number)) fail(field, "soft must not exceed hard");
  });
  optString(p.apparmorProfile, "process.apparmorProfile");
  optString(p.selinuxLabel, "process.selinuxLabel");
  refuse(p.scheduler, "process.scheduler");
  refuse(p.ioPriority, "process.ioPriority");
  refuse(p.execCPUAffinity, "process.execCPUAffinity");
}

function validateMounts(v: unknown): void {
  const list = optArray(v, "mounts");
  list.forEach((x, i) => {
    const field = `mounts[${i}]`;
    const m = object(x, field);
    // runc refuses relative destinations too ("mount destination not absolute").
    absPath(m.destination, `${field}.destination`);
    optString(m.source, `${field}.source`);
    optString(m.type, `${field}.type`);
    optStrArray(m.options, `${field}.options`);
    refuse(m.uidMappings, `${field}.uidMappings`);
    refuse(m.gidMappings, `${field}.gidMappings`);
    const opts = parseMountOptions(m.options as string[] | undefined);
    if (opts.unsupported) throw ConfigError.unsupported(`${field}.options: ${opts.unsupported}`);
    const bind = isBindMount(m as { type?: string; options?: string[] });
    // runc acts on tmpcopyup for tmpfs only and ignores it elsewhere; we refuse what we would ignore.
    if (opts.copyUp && (bind || m.type !== "tmpfs"))
      fail(`${field}.options`, "tmpcopyup applies to tmpfs mounts only");
    checkProcMount(m.destination as string, bind ? "bind" : (m.type as string), `${field}.destination`);
    if (bind && (typeof m.source !== "string" || m.source === ""))
      fail(`${field}.source`, "is required for a bind mount");
    if (!bind && (typeof m.type !== "string" || m.type === "")) fail(`${field}.type`, "is required");
  });
  checkProcAtProc(list as Mount[]);
}

/**
 * The init waits for `start` by reopening its exec.fifo fd through /proc/self/fd: without a procfs there it
 * would fail only after `create` has returned (runc's init needs /proc too). Of the mounts at / or /proc, the
 * last decides what the container sees at /proc (anything but procfs over /proc is refused above).
 */
function checkProcAtProc(mounts: Mount[]): void {
  // "none" until a procfs is mounted at /proc, then "ok", or the index of a later mount at / that hides it.
  let proc: "none" | "ok" | number = "none";
  for (const [i, m] of mounts.entries()) {
    const dest = posix.normalize(`/${m.destination}`).replace(/(.)\/+$/, "$1");
    if (dest === "/proc" && m.type === "proc" && !isBindMount(m)) proc = "ok";
    else if (dest === "/" && proc !== "none") proc = i;
  }
  const why = "(the init reopens exec.fifo through it)";
  if (proc === "none") fail("mounts", `tsrun needs a proc mount at /proc in the container ${why}`);
  if (typeof proc === "number")
    fail(
      `mounts[${proc}].destination`,
      `a mount at / hides the proc mount at /proc, which tsrun needs ${why}`,
    );
}

/**
 * Mounting something other than procfs over /proc, or over files in it, would let a rootfs hide what
 * maskedPaths and readonlyPaths protect (runc's checkProcMount). Only the files lxcfs and friends replace pass.
 */
const PROC_FILES = new Set([
  "/proc/cpuinfo",
  "/proc/diskstats",
  "/proc/meminfo",
  "/proc/stat",
  "/proc/swaps",
  "/proc/uptime",
  "/proc/loadavg",
  "/proc/slabinfo",
  "/proc/net/dev",
  "/proc/sys/kernel/ns_last_pid",
]);

function checkProcMount(destination: string, type: string, field: string): void {
  const dest = posix.normalize(`/${destination}`).replace(/(.)\/+$/, "$1");
  if (type === "proc" || (dest !== "/proc" && !dest.startsWith("/proc/"))) return;
  if (PROC_FILES.has(dest)) return;
  fail(field, `${dest}: only procfs may be mounted over /proc`);
}

function validateHooks(v: unknown): void {
  const hooks = optObject(v, "hooks");
  if (!hooks) return;
  for (const [name, list] of Object.entries(hooks)) {
    if (
      !["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"].includes(
        name,
      )
    ) {
      continue; // runc ignores unknown hook kinds
    }
    optArray(list, `hooks.${name}`).forEach((x, i) => {
      const field = `hooks.${name}[${i}]`;
      const h = object(x, field);
      absPath(h.path, `${field}.path`);
      optStrArray(h.args, `${field}.args`);
      optStrArray(h.env, `${field}.env`);
      if (h.timeout !== undefined && h.timeout !== null && !(isInt(h.timeout) && h.timeout > 0)) {
        fail(`${field}.timeout`, "must be a positive integer");
      }
    });
  }
}

function validateIdMappings(v: unknown, field: string): void {
  optArray(v, field).forEach((x, i) => {
    const m = object(x, `${field}[${i}]`);
    for (const k of ["containerID", "hostID", "size"]) {
      if (!isUint(m[k])) fail(`${field}[${i}].${k}`, "must be an integer from 0 to 4294967295");
    }
    if (m.size === 0) fail(`${field}[${i}].size`, "must not be 0");
  });
}

const ROOTFS_PROPAGATION = new Set(["private", "rprivate", "slave", "rslave", "unbindable", "runbindable"]);

function validateLinux(linux: Obj, namespaces: { type: string; path?: string }[] | undefined): void {
  const userns = (namespaces ?? []).find((n) => n.type === "user");
  validateIdMappings(linux.uidMappings, "linux.uidMappings");
  validateIdMappings(linux.gidMappings, "linux.gidMappings");
  for (const k of ["uidMappings", "gidMappings"]) {
    const set = isSet(linux[k]);
    if (set && !userns) fail(`linux.${k}`, "requires a user namespace");
    if (set && userns?.path) fail(`linux.${k}`, "must not be set when joining a user namespace by path");
    if (!set && userns && !userns.path) fail(`linux.${k}`, "is required with a new user namespace");
  }
  optString(linux.cgroupsPath, "linux.cgroupsPath");
  const sysctl = optObject(linux.sysctl, "linux.sysctl") ?? {};
  for (const [k, v] of Object.entries(sysctl)) validateSysctl(k, v, namespaces ?? []);
  for (const k of ["maskedPaths", "readonlyPaths"]) {
    optArray(linux[k], `linux.${k}`).forEach((p, i) => {
      absPath(p, `linux.${k}[${i}]`);
    });
  }
  if (
    linux.rootfsPropagation !== undefined &&
    linux.rootfsPropagation !== null &&
    linux.rootfsPropagation !== ""
  ) {
    const p = linux.rootfsPropagation;
    if (typeof p !== "string" || PROPAGATION[p] === undefined) {
      fail("linux.rootfsPropagation", `unknown propagation ${JSON.stringify(p)}`);
    }
    // A shared root needs the rootfs' parent mount made private first (pivot_root refuses shared parents),
    // which the plan cannot express yet.
    if (!ROOTFS_PROPAGATION.has(p as string)) throw ConfigError.unsupported(`linux.rootfsPropagation ${p}`);
  }
  optArray(linux.devices, "linux.devices").forEach((x, i) => {
    const field = `linux.devices[${i}]`;
    const d = object(x, field);
    absPath(d.path, `${field}.path`);
    if (typeof d.type !== "string" || !["c", "b", "u", "p"].includes(d.type)) {
      fail(`${field}.type`, `must be one of c, b, u, p`);
    }
    if (d.type !== "p") {
      if (!isUint(d.major, 2 ** 32 - 1))
        fail(`${field}.major`, "is required for a character or block device");
      if (!isUint(d.minor, 2 ** 32 - 1))
        fail(`${field}.minor`, "is required for a character or block device");
    }
    for (const k of ["fileMode", "uid", "gid"]) {
      if (d[k] !== undefined && d[k] !== null && !isUint(d[k]))
        fail(`${field}.${k}`, "must be a non-negative integer");
    }
  });
  validateSeccomp(linux.seccomp);
  optString(linux.mountLabel, "linux.mountLabel");
  refuse(linux.intelRdt, "linux.intelRdt");
  refuse(linux.personality, "linux.personality");
  refuse(linux.timeOffsets, "linux.timeOffsets");
  refuse(linux.netDevices, "linux.netDevices");
  refuse(linux.memoryPolicy, "linux.memoryPolicy");
  validateResources(linux.resources);
}

/** The resources tsrun applies: memory limit/reservation/swap, cpu shares/quota/period/cpus/mems, pids, devices. */
const SUPPORTED_RESOURCES: Readonly<Record<string, readonly string[] | "all">> = {
  devices: "all",
  memory: ["limit", "reservation", "swap"],
  cpu: ["shares", "quota", "period", "cpus", "mems"],
  pids: ["limit"],
};

function validateResources(v: unknown): void {
  const r = optObject(v, "linux.resources");
  if (!r) return;
  for (const [k, val] of Object.entries(r)) {
    // Own keys only: "constructor" or "toString" must not find Object.prototype's.
    const supported = Object.hasOwn(SUPPORTED_RESOURCES, k) ? SUPPORTED_RESOURCES[k] : undefined;
    if (supported === undefined) {
      refuse(val, `linux.resources.${k}`);
      continue;
    }
    if (supported === "all") continue;
    const sub = optObject(val, `linux.resources.${k}`) ?? {};
    for (const [f, x] of Object.entries(sub)) {
      if (!supported.includes(f)) {
        // runc's and containerd's zero values that ask for nothing
        if (k === "memory" && f === "disableOOMKiller" && x === false) continue;
        refuse(x, `linux.resources.${k}.${f}`);
      } else if (x !== null && typeof x !== (f === "cpus" || f === "mems" ? "string" : "number")) {
        fail(
          `linux.resources.${k}.${f}`,
          f === "cpus" || f === "mems" ? "must be a string" : "must be a number",
        );
      }
    }
  }
  optArray(r.devices, "linux.resources.devices").forEach((x, i) => {
    const field = `linux.resources.devices[${i}]`;
    const d = object(x, field);
    if (typeof d.allow !== "boolean") fail(`${field}.allow`, "must be a boolean");
    if (d.type !== undefined && d.type !== null && !["a", "b", "c"].includes(d.type as string)) {
      fail(`${field}.type`, "must be one of a, b, c");
    }
    for (const k of ["major", "minor"]) {
      if (d[k] !== undefined && d[k] !== null && !(isInt(d[k]) && (d[k] as number) >= -1)) {
        fail(`${field}.${k}`, "must be an integer (-1 for any)");
      }
    }
    if (
      d.access !== undefined &&
      d.access !== null &&
      !(typeof d.access === "string" && /^[rwm]*$/.test(d.access))
    ) {
      fail(`${field}.access`, "must be made of r, w and m");
    }
  });
}

/** runc's rule: only sysctls that live in a namespace the container owns. */
function validateSysctl(key: string, value: unknown, namespaces: { type: string }[]): void {
  const field = `linux.sysctl.${key}`;
  if (typeof value !== "string") fail(field, "must be a string");
  // Dots become slashes under /proc/sys: an empty segment would let "a..b" climb out of it.
  if (key.split(/[./]/).some((s) => s === "" || s === "..")) fail(field, "is not a valid sysctl name");
  const has = (t: string) => namespaces.some((n) => n.type === t);
  const ipc = new Set([
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
  ]);
  if (ipc.has(key) || key.startsWith("fs.mqueue.")) {
    if (has("ipc")) return;
    fail(field, "is not allowed in the host's ipc namespace");
  }
  if (key.startsWith("net.")) {
    if (has("network")) return;
    fail(field, "is not allowed in the host's network namespace");
  }
  if (has("uts") && key === "kernel.domainname") return;
  if (has("uts") && key === "kernel.hostname") fail(field, "conflicts with the hostname field");
  fail(field, "is not in a separate kernel namespace");
}
