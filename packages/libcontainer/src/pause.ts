// pause and resume: the cgroup freezer, with runc's rules on which states allow them and its words when not.
import { CgroupError } from "./cgroups/index.js";
import { loadContainer } from "./container.js";
import { ContainerError, notExist } from "./container-error.js";
import { lockContainerSync } from "./lock.js";
import { containerDir } from "./state.js";

function cgroupCall(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof CgroupError) throw new ContainerError(e.message, { cause: e });
    throw e;
  }
}

/** Exclusive: a pause and a resume (or a delete) never interleave. */
function locked(root: string, id: string, f: () => void): void {
  const lock = lockContainerSync(containerDir(root, id), "exclusive");
  if (!lock) throw notExist();
  try {
    f();
  } finally {
    lock.release();
  }
}

/** Freezes a running or created container; anything else (stopped, already paused) is "not running". */
export function pauseContainer(root: string, id: string): void {
  locked(root, id, () => {
    const c = loadContainer(root, id);
    if (c.status !== "running" && c.status !== "created") throw new ContainerError("container not running");
    cgroupCall(() => c.cgroups.freeze());
  });
}

export function resumeContainer(root: string, id: string): void {
  locked(root, id, () => {
    const c = loadContainer(root, id);
    if (c.status !== "paused") throw new ContainerError("container not paused");
    cgroupCall(() => c.cgroups.thaw());
  });
}
