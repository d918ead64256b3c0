import { closeSync, openSync } from "node:fs";
import { createRelay, type Relay } from "@tsrun/console";
import { type ConsoleSocketServer, FdPassError, type ReceivedConsole } from "@tsrun/fdpass";
import { ownMaster } from "./master.js";

/**
 * Mode null: accept every connection and read each terminal to its end, throwing the output
 * away, so containers never block on a full pty. Runs until the server is closed.
 */
export async function runNull(
  server: ConsoleSocketServer,
  opts: { log: (message: string) => void; relays: Set<Relay> },
): Promise<void> {
  const devNull = openSync("/dev/null", "w");
  const draining = new Set<Promise<void>>();
  try {
    for (;;) {
      let received: ReceivedConsole;
      try {
        received = await server.accept();
      } catch (e) {
        if (server.closed) break;
        // A peer that sent the wrong thing costs only its own connection; a failing accept(2)
        // itself (EMFILE, ...) would fail again at once, so it ends the program.
        if (e instanceof FdPassError && e.syscall === "recvmsg") {
          opts.log(`recvtty: ${e.message}`);
          continue;
        }
        throw e;
      }
      const p = discard(received, devNull, opts).finally(() => draining.delete(p));
      draining.add(p);
    }
    await Promise.all(draining);
  } finally {
    closeSync(devNull);
  }
}

async function discard(
  received: ReceivedConsole,
  sink: number,
  opts: { log: (message: string) => void; relays: Set<Relay> },
): Promise<void> {
  try {
    const master = ownMaster(received);
    try {
      const relay = createRelay(master, { input: null, output: sink });
      opts.relays.add(relay);
      await relay.done.finally(() => opts.relays.delete(relay));
    } finally {
      master.close();
    }
  } catch (e) {
    opts.log(`recvtty: ${received.name}: ${(e as Error).message}`);
  }
}
