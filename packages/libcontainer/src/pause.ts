// pause and resume: the cgroup freezer, with runc's rules on which states allow them and its words when not.
import { CgroupError } from "./cgroups/index.js";
import { loadContainer } from "./container.js";
import { ContainerError } from "./container-error.js";

function cgroupCall(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof CgroupError) throw new ContainerError(e.message, { cause: e });
    throw e;
  }
}

/** Freezes a running or created container; anything else (stopped, already paused) is "not running". */
export function pauseContainer(root: string, id: string): void {
  const c = loadContainer(root, id);
  if (c.status !== "running" && c.status !== "created") throw new ContainerError("container not running");
  cgroupCall(() => c.cgroups.freeze());
}

export function resumeContainer(root: string, id: string): void {
  const c = loadContainer(root, id);
  if (c.status !== "paused") throw new ContainerError("container not paused");
  cgroupCall(() => c.cgroups.thaw());
}
