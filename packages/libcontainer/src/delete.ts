// delete: tear a container down (runc's `delete`): kill what is left, remove its cgroups and state, then the
// poststop hooks.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadContainer } from "./container.js";
import { ContainerError, notExist } from "./container-error.js";
import { runHooks } from "./hooks.js";
import * as libc from "./libc.js";
import { lockContainer } from "./lock.js";
import { removePartial } from "./partial-create.js";
import { containerDir, initAlive, removeContainerDir, STATE_FILE } from "./state.js";
import { stateJson } from "./state-json.js";

export async function deleteContainer(root: string, id: string, force = false): Promise<void> {
  // Exclusive: a second delete (containerd's cleanup races the first) waits, then finds nothing.
  const dir = containerDir(root, id);
  const lock = await lockContainer(dir, "exclusive");
  // delete --force of a missing container succeeds.
  if (!lock) {
    if (force) return;
    throw notExist();
  }
  try {
    if (!existsSync(join(dir, STATE_FILE))) {
      // No create holds the lock, so this create died before ready: clean it, as runc removes a directory it
      // cannot load (and still answers "does not exist" without --force).
      await removePartial(dir);
      if (force) return;
      throw notExist();
    }
    await deleteLocked(root, id, force);
  } finally {
    lock.release();
  }
}

async function deleteLocked(root: string, id: string, force: boolean): Promise<void> {
  const c = loadContainer(root, id);
  switch (c.status) {
    case "stopped":
      break;
    case "created":
      // As runc: a created container is deleted without --force; its init never ran the user's program.
      await killAndWait(c);
      break;
    default:
      if (!force) throw new ContainerError(`cannot delete container ${id} that is not stopped: ${c.status}`);
      if (c.status === "paused") c.cgroups.thaw();
      await killAndWait(c);
  }
  // Processes left without a pid namespace of their own would keep the cgroup busy.
  if (!c.state.ownPidNamespace) for (const pid of safePids(c)) libc.kill(pid, 9);
  c.cgroups.destroy();
  removeContainerDir(c.dir);
  try {
    await runHooks("poststop", c.state.hooks?.poststop, stateJson(c.state, "stopped"));
  } catch (e) {
    // The spec makes a poststop failure a warning: the container is gone either way.
    process.emitWarning((e as Error).message);
  }
}

function safePids(c: ReturnType<typeof loadContainer>): number[] {
  try {
    return c.cgroups.pids();
  } catch {
    return [];
  }
}

async function killAndWait(c: ReturnType<typeof loadContainer>): Promise<void> {
  libc.kill(c.state.pid, 9);
  // The init is our caller's child (or a zombie of someone else's); wait until /proc says it is gone or dead.
  const deadline = Date.now() + 5000;
  while (initAlive(c.state) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}
