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
    // process.stdin rather than fd 0: for a pipe or socket, @tsrun/console would read fd 0 with
    // blocking reads on the libuv threadpool, and a read parked there keeps process.exit() from
    // returning until someone types. Node's own stdin stream polls instead, and for a terminal it
    // reopens the device, so the O_NONBLOCK it sets never reaches the caller's shell.
    const relay = createRelay(master, { input: opts.noStdin ? null : process.stdin, output: 1 });
    opts.onRelay(relay);
    await relay.done;
  } finally {
    master.close();
  }
}
