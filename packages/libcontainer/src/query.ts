// state and list: read-only views of the state root, as runc prints them.
import { loadContainer } from "./container.js";
import { listIds, ownerOf } from "./state.js";
import { type OciState, ociState } from "./state-json.js";

export function containerState(root: string, id: string): OciState {
  const c = loadContainer(root, id);
  // runc's `state` leaves owner empty; only `list` resolves it.
  return ociState(c.state, c.status, "");
}

export function listContainers(root: string): OciState[] {
  const out: OciState[] = [];
  for (const id of listIds(root)) {
    try {
      const c = loadContainer(root, id);
      out.push(ociState(c.state, c.status, ownerOf(c.dir)));
    } catch {
      // A directory without a readable state (a create in progress or killed) is not a container yet.
    }
  }
  return out;
}
