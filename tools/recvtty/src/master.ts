import { closeSync } from "node:fs";
import { type Console, consoleFromFd } from "@tsrun/console";
import type { ReceivedConsole } from "@tsrun/fdpass";

/** Wraps a received master as an owned Console; on failure the fd is closed, never leaked. */
export function ownMaster(received: ReceivedConsole): Console {
  try {
    return consoleFromFd(received.fd, { name: received.name, owned: true });
  } catch (e) {
    closeSync(received.fd);
    throw e;
  }
}
