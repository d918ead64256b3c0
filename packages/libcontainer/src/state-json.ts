// The OCI state as `tsrun state`, `list --format json` and hooks' stdin show it (runc's containerState).
import { OCI_VERSION } from "./default-spec.js";
import type { StateFile, Status } from "./state.js";

export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function ociState(state: StateFile, status: Status, owner = ""): OciState {
  return {
    ociVersion: OCI_VERSION,
    id: state.id,
    // runc shows 0 for a stopped container: the recorded pid may belong to someone else by now.
    pid: status === "stopped" ? 0 : state.pid,
    status,
    bundle: state.bundle,
    rootfs: state.rootfs,
    created: state.created,
    owner,
    ...(state.annotations && Object.keys(state.annotations).length ? { annotations: state.annotations } : {}),
  };
}

export const stateJson = (state: StateFile, status: Status): string =>
  JSON.stringify(ociState(state, status));
