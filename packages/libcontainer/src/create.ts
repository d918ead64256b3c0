// create: everything up to an init that is fully set up and blocked on exec.fifo (runc's `create`), or, for
// `run`, the same followed by start. Failure at any step leaves nothing behind: no state dir, no init, no cgroup.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type CgroupManager, cgroupManager, primeCgroupAttach } from "./cgroups/index.js";
import { compilePlan, SYNC_LABELS } from "./compile.js";
import { ContainerError } from "./container-error.js";
import { validateId } from "./container-id.js";
import { deviceRules } from "./device-rules.js";
import { createExecFifo } from "./exec-fifo.js";
import { startExecutor } from "./executor.js";
import { runHooks } from "./hooks.js";
import { initDeath } from "./init-death.js";
import * as libc from "./libc.js";
import { type ContainerLock, lockContainer } from "./lock.js";
import { hasNewNamespace } from "./namespaces.js";
import { savePartial } from "./partial-create.js";
import { sendSeccompListener } from "./seccomp/notify.js";
import type { Spec } from "./spec.js";
import {
  ensureRoot,
  nowRfc3339Nano,
  procStat,
  type StateFile,
  type Status,
  saveConfig,
  saveState,
  sessionKeyringName,
} from "./state.js";
import { ociState, stateJson } from "./state-json.js";
import { type IoMode, ioMode, type PreparedIo, prepareIo } from "./stdio.js";
import { parseSpec, resolveRootfs } from "./validate.js";

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  noPivot?: boolean;
  /** Keep the caller's session keyring instead of a new one named "_ses.<id>" (runc's default). */
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** false only for a foreground `run`. */
  detach: boolean;
  debug?: boolean;
}

export interface CreatedContainer {
  dir: string;
  state: StateFile;
  spec: Spec;
  mode: IoMode;
  io: PreparedIo;
}

/** Reads and validates <bundle>/config.json with runc's wording for a missing bundle or file. */
export function loadBundle(bundle: string): { bundle: string; spec: Spec; rootfs: string } {
  const abs = resolve(bundle);
  if (!existsSync(abs)) throw new ContainerError(`chdir ${abs}: no such file or directory`);
  let text: string;
  try {
    text = readFileSync(join(abs, "config.json"), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new ContainerError("JSON specification file config.json not found");
    throw new ContainerError(`open ${join(abs, "config.json")}: ${(e as NodeJS.ErrnoException).code}`);
  }
  const spec = parseSpec(text, abs);
  return { bundle: abs, spec, rootfs: resolveRootfs(spec, abs) };
}

/** Container root's host ids: the mapping of 0 in a new user namespace, else 0. */
function hostRoot(spec: Spec): { uid: number; gid: number } {
  const lx = spec.linux;
  if (!hasNewNamespace(lx?.namespaces, "user")) return { uid: 0, gid: 0 };
  const map = (m?: { containerID: number; hostID: number; size: number }[]) =>
    m?.find((x) => x.containerID === 0)?.hostID ?? 0;
  return { uid: map(lx?.uidMappings), gid: map(lx?.gidMappings) };
}

export function writePidFile(path: string, pid: number): void {
  // No newline: containerd parses it with Atoi. Written aside and renamed so a reader never sees it empty.
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${process.pid}.pid-tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}

export async function createContainer(opts: CreateOptions): Promise<CreatedContainer> {
  validateId(opts.id);
  const { bundle, spec, rootfs } = loadBundle(opts.bundle);
  const proc = spec.process;
  if (!proc) throw new ContainerError("config.json: process is required to create a container");
  const mode = ioMode({ terminal: !!proc.terminal, detach: opts.detach, consoleSocket: opts.consoleSocket });
  // The init joins its cgroups in the cgroups sync; have the kernel's grace period for that run meanwhile.
  primeCgroupAttach();
  const root = resolve(opts.root);
  ensureRoot(root);
  const dir = join(root, opts.id);
  // Held until create returns. A `delete` may lock a directory we have just made before we do and, finding no
  // state.json, remove it as a dead create's: then we are first again, and make it anew.
  let lock: ContainerLock | undefined;
  for (let attempt = 0; !lock; attempt++) {
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST")
        throw new ContainerError("container with given ID already exists");
      throw e;
    }
    lock = await lockContainer(dir, "exclusive");
    if (!lock && attempt >= 10) throw new ContainerError(`${dir}: removed while being created`);
  }

  const owner = hostRoot(spec);
  const state: StateFile = {
    id: opts.id,
    pid: 0,
    pidStartTime: "",
    bundle,
    rootfs,
    created: nowRfc3339Nano(),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
    cgroupPaths: {},
    rootUid: owner.uid,
    rootGid: owner.gid,
    hooks: { poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop },
    ownPidNamespace: hasNewNamespace(spec.linux?.namespaces, "pid"),
    ...(spec.linux?.resources ? { resources: spec.linux.resources } : {}),
    ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
  };
  let cgroups: CgroupManager | undefined;
  let cgroupsError: Error | undefined;
  let io: PreparedIo | undefined;
  let fifoFd = -1;
  try {
    fifoFd = createExecFifo(dir, owner.uid, owner.gid);
    io = prepareIo(mode, owner.uid, owner.gid);
    const plan = compilePlan(spec, {
      bundle,
      rootfs,
      noPivot: !!opts.noPivot,
      consoleSocket: !!proc.terminal,
      fifo: true,
      preserveFds: opts.preserveFds ?? 0,
      ...(opts.noNewKeyring ? {} : { sessionKeyring: sessionKeyringName(opts.id) }),
    });
    const status = (s: Status) => stateJson(state, s);
    const run = startExecutor({
      plan,
      stdio: io.stdio,
      preserveFds: opts.preserveFds ?? 0,
      fifoFd,
      consoleFd: io.consoleFd,
      debug: opts.debug,
      onPid: (pid) => {
        state.pid = pid;
        state.pidStartTime = procStat(pid)?.startTime ?? "";
      },
      onSeccompFd: (fd) =>
        sendSeccompListener({
          pid: state.pid,
          fd,
          listenerPath: spec.linux?.seccomp?.listenerPath ?? "",
          listenerMetadata: spec.linux?.seccomp?.listenerMetadata,
          state: ociState(state, "creating"),
        }),
      // The cgroups are made and limited while the executor starts (mkdir in cgroupfs is slow, a few ms for a
      // dozen v1 hierarchies), so the init is never in them unlimited; a failure here is reported at the sync.
      meanwhile: () => {
        try {
          cgroups = cgroupManager({ cgroupsPath: spec.linux?.cgroupsPath, id: opts.id });
          state.cgroupPaths = cgroups.paths;
          // Recorded before they exist, so that `delete` can remove them if we die before ready.
          savePartial(dir, state);
          cgroups.create();
          cgroups.set({
            ...spec.linux?.resources,
            devices: deviceRules(spec.linux?.resources?.devices, spec.linux?.devices),
          });
        } catch (e) {
          cgroupsError = e as Error;
        }
      },
      onSync: async (label) => {
        switch (label) {
          case SYNC_LABELS.cgroups:
            if (cgroupsError) throw cgroupsError;
            // With the pid known now, partial.json lets `delete` kill the init too.
            savePartial(dir, state);
            cgroups?.apply(state.pid);
            return undefined;
          case SYNC_LABELS.createRuntime:
            await runHooks("prestart", spec.hooks?.prestart, status("creating"));
            await runHooks("createRuntime", spec.hooks?.createRuntime, status("creating"));
            return undefined;
          case SYNC_LABELS.createContainer:
            return status("creating");
          case SYNC_LABELS.ready:
            // Saved before the init goes on, so `delete` can clean up even if we are killed right now.
            saveConfig(dir, spec);
            saveState(dir, state);
            return status("created");
          default:
            throw new ContainerError(`init channel: unknown sync ${label}`);
        }
      },
    });
    io.afterSpawn();
    libc.close(fifoFd);
    fifoFd = -1;
    await run.done; // on failure, the catch below kills and reaps the init, so no zombie of ours stays behind
    if (state.pid <= 0) throw new ContainerError("tsrun-exec exited without reporting the init's pid");
    const death = initDeath(state.pid, state.cgroupPaths);
    if (death) throw new ContainerError(death);
    if (opts.pidFile) writePidFile(opts.pidFile, state.pid);
    return { dir, state, spec, mode, io };
  } catch (e) {
    if (fifoFd >= 0) libc.close(fifoFd);
    io?.abort();
    if (state.pid > 0 && libc.kill(state.pid, 9)) await libc.waitExit(state.pid).catch(() => {});
    try {
      cgroups?.destroy();
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    lock.release();
  }
}
