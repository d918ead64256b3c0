// A create that died before "ready" (tsrun killed, the machine's OOM killer) leaves a state directory without
// state.json. Its init dies with tsrun (PR_SET_PDEATHSIG until ready, and EOF on the init channel after that), but
// the cgroups tsrun made for it stay. So before making them, create records them here, and `delete` uses the
// record to clean such a directory, as runc's delete removes a directory it cannot load.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupManagerFromPaths } from "./cgroups/index.js";
import * as libc from "./libc.js";
import { initAlive, type StateFile } from "./state.js";

const PARTIAL = "partial.json";

type Partial = Pick<StateFile, "pid" | "pidStartTime" | "cgroupPaths">;

export function savePartial(dir: string, p: Partial): void {
  writeFileSync(join(dir, PARTIAL), JSON.stringify(p), { mode: 0o600 });
}

function loadPartial(dir: string): Partial | undefined {
  try {
    const p = JSON.parse(readFileSync(join(dir, PARTIAL), "utf8")) as Partial;
    return typeof p === "object" && p !== null ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Cleans the directory of a create that died before ready; the caller holds its lock, so no create is running. */
export async function removePartial(dir: string): Promise<void> {
  const p = loadPartial(dir);
  if (p && typeof p.pid === "number" && typeof p.pidStartTime === "string") {
    // Normally dead already; a pid that was reused since has another start time and is left alone.
    if (initAlive(p) && libc.kill(p.pid, 9)) {
      const deadline = Date.now() + 5000;
      while (initAlive(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
  }
  if (p && typeof p.cgroupPaths === "object" && p.cgroupPaths !== null) {
    try {
      cgroupManagerFromPaths(p.cgroupPaths).destroy();
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
}
