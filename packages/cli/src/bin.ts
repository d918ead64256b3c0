// The tsrun executable's entry, loaded by bin/tsrun (written by scripts/make-bin.mjs) through V8's code cache.
// Relays park threadpool threads in blocking reads of our stdin (O_NONBLOCK there would leak into the user's
// shell), so the pool gets room for them (the launcher sets the size before this bundle runs), and the end is
// _exit, which does not wait for those threads the way process.exit's libuv teardown would.
import { cgroupAttachPrimed, exitNow } from "@tsrun/libcontainer";
import { main } from "./main.js";

/**
 * Runs the command line in process.argv; `beforeExit` runs once the command is done, right before _exit.
 * `cgroupPrimed`: the launcher has already started the cgroup-attach grace period, so create need not.
 */
export function start(beforeExit?: () => void, opts: { cgroupPrimed?: boolean } = {}): void {
  process.env.UV_THREADPOOL_SIZE ??= "8";
  if (opts.cgroupPrimed) cgroupAttachPrimed();
  main(process.argv.slice(2)).then(
    (code) => {
      beforeExit?.();
      exitNow(code);
    },
    (e) => {
      process.stderr.write(`${e}\n`);
      exitNow(1);
    },
  );
}
