// Loading a container from the state root, with its derived status and cgroup handle.
import { type CgroupManager, cgroupManagerFromPaths } from "./cgroups/index.js";
import { containerDir, deriveStatus, loadState, type StateFile, type Status } from "./state.js";

export interface LoadedContainer {
  dir: string;
  state: StateFile;
  status: Status;
  cgroups: CgroupManager;
}

export function loadContainer(root: string, id: string): LoadedContainer {
  const dir = containerDir(root, id);
  const state = loadState(root, id);
  const cgroups = cgroupManagerFromPaths(state.cgroupPaths);
  const status = deriveStatus(dir, state, () => {
    try {
      return cgroups.isFrozen();
    } catch {
      return false;
    }
  });
  return { dir, state, status, cgroups };
}
