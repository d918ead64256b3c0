import { closeSync, openSync } from "node:fs";
import { createRelay, type Relay } from "@tsrun/console";
import { type ConsoleSocketServer, type ReceivedConsole, recvConsole } from "@tsrun/fdpass";
import { ownMaster } from "./master.js";

interface NullOptions {
  log: (message: string) => void;
  relays: Set<Relay>;
}

/**
 * Mode null: accept every connection and read each terminal to its end, throwing the output
 * away, so containers never block on a full pty. Runs until the server is closed. Each peer is
 * served on its own, so one that connects and never sends holds up nobody else.
 */
export async function runNull(server: ConsoleSocketServer, opts: NullOptions): Promise<void> {
  const devNull = openSync("/dev/null", "w");
  const stop = new AbortController();
  const pending = new Set<Promise<void>>();
  try {
    for (;;) {
      let conn: number;
      try {
        conn = await server.acceptConnection();
      } catch (e) {
        if (server.closed) break;
        // accept(2) itself failing (EMFILE, ...) would fail again at once: end the program.
        throw e;
      }
      const p = serve(conn, devNull, stop.signal, opts).finally(() => pending.delete(p));
      pending.add(p);
    }
    // Peers that never sent their master are given up; terminals already received drain on.
    stop.abort();
    await Promise.all(pending);
  } finally {
    closeSync(devNull);
  }
}

async function serve(conn: number, sink: number, signal: AbortSignal, opts: NullOptions): Promise<void> {
  let received: ReceivedConsole;
  try {
    received = await recvConsole(conn, { signal });
  } catch (e) {
    // A peer that sent the wrong thing costs only its own connection.
    if (!signal.aborted) opts.log(`recvtty: ${(e as Error).message}`);
    return;
  } finally {
    closeSync(conn);
  }
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
