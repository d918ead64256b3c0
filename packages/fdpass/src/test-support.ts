// Helpers shared by this package's tests. Not exported from index.ts, so not part of the build.
import { readdirSync, readlinkSync } from "node:fs";
import koffi, { type KoffiFunc } from "koffi";
import { pollerState } from "./wait-readable.js";

const libc = koffi.load("libc.so.6");
const pipe2 = libc.func("int pipe2(_Out_ int *fds, int flags)") as KoffiFunc<
  (fds: Int32Array, flags: number) => number
>;

/** A real pipe, both ends close-on-exec: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  if (pipe2(fds, 0o2000000) < 0) throw new Error(`pipe2: errno ${koffi.errno()}`);
  return [fds[0]!, fds[1]!];
}

/** The fds open in this process, with what they point at, for leak checks. */
export function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync("/proc/self/fd")) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // The fd readdir itself used, already closed.
    }
  }
  return out;
}

/** fds open now that were not open in `before`, described for a readable assertion. */
export function leakedSince(before: Map<number, string>): string[] {
  const leaked: string[] = [];
  for (const [fd, target] of openFds()) {
    if (before.get(fd) !== target) leaked.push(`${fd} -> ${target}`);
  }
  return leaked;
}

/** Waits for the shared poller to go idle (no waiters, no wake fd), as it must once every wait has ended. */
export async function untilIdle(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = pollerState();
    if (!s.polling && s.waiters === 0 && s.wakeFd < 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`poller still busy: ${JSON.stringify(pollerState())}`);
}
