// start: release a created init into its program (runc's `start`), then the poststart hooks.
import { loadContainer } from "./container.js";
import { ContainerError, notExist } from "./container-error.js";
import { releaseInit } from "./exec-fifo.js";
import { runHooks } from "./hooks.js";
import * as libc from "./libc.js";
import { lockContainer } from "./lock.js";
import { containerDir } from "./state.js";
import { stateJson } from "./state-json.js";

export async function startContainer(root: string, id: string): Promise<void> {
  const lock = await lockContainer(containerDir(root, id), "exclusive");
  if (!lock) throw notExist();
  try {
    await startLocked(root, id);
  } finally {
    lock.release();
  }
}

async function startLocked(root: string, id: string): Promise<void> {
  const c = loadContainer(root, id);
  switch (c.status) {
    case "created":
      break;
    case "stopped":
      throw new ContainerError("cannot start a container that has stopped");
    default:
      throw new ContainerError("cannot start an already running container");
  }
  await releaseInit(c.dir, c.state.pid);
  try {
    await runHooks("poststart", c.state.hooks?.poststart, stateJson(c.state, "running"));
  } catch (e) {
    // As runc: a failed poststart hook takes the container down with it.
    libc.kill(c.state.pid, 9);
    throw e;
  }
}
