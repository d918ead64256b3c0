import { createRelay, type Relay } from "@tsrun/console";
import type { ConsoleSocketServer } from "@tsrun/fdpass";
import { ownMaster } from "./master.js";

/**
 * Mode single: one connection, then the listener goes away (so another recvtty can take the
 * path over), and the terminal is relayed to our stdin/stdout until the container's side ends.
 */
export async function runSingle(
  server: ConsoleSocketServer,
  opts: { noStdin: boolean; onRelay: (relay: Relay) => void },
): Promise<void> {
  let received: Awaited<ReturnType<ConsoleSocketServer["accept"]>>;
  try {
    received = await server.accept();
  } finally {
    server.close();
  }
  const master = ownMaster(received);
  try {
    // We relay to a terminal or a pipe that does its own output processing; a second \n → \r\n
    // translation in the container's pty would double the carriage returns.
    master.clearONLCR();
    const relay = createRelay(master, { input: opts.noStdin ? null : 0, output: 1 });
    opts.onRelay(relay);
    await relay.done;
  } finally {
    master.close();
  }
}
