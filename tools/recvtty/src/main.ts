import type { Relay } from "@tsrun/console";
import { ConsoleSocketServer } from "@tsrun/fdpass";
import { parseOptions, UsageError, usage } from "./args.js";
import { runNull } from "./null-mode.js";
import { writePidFile } from "./pid-file.js";
import { runSingle } from "./single.js";

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs recvtty with `argv` (without node and script) and exits the process. */
export async function main(argv: string[]): Promise<never> {
  let opts: ReturnType<typeof parseOptions>;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`recvtty: ${e.message}\n${usage}`);
    return process.exit(1);
  }
  if (opts === "help") {
    process.stdout.write(usage);
    return process.exit(0);
  }

  let server: ConsoleSocketServer | undefined;
  const relays = new Set<Relay>();
  let exitCode = 0;
  // A signal stops accepting and ends the relays cleanly, so the socket file is removed and
  // everything already read from a terminal still reaches stdout.
  for (const [name, number] of Object.entries(SIGNALS)) {
    process.once(name, () => {
      exitCode = 128 + number;
      server?.close();
      for (const relay of relays) relay.shutdown();
    });
  }
  try {
    server = ConsoleSocketServer.listen(opts.socketPath);
    // After listen: once the pid file exists, the socket accepts connections.
    if (opts.pidFile !== undefined) writePidFile(opts.pidFile);
    if (opts.mode === "single") {
      await runSingle(server, { noStdin: opts.noStdin, onRelay: (relay) => relays.add(relay) });
    } else {
      await runNull(server, { log, relays });
    }
  } catch (e) {
    server?.close();
    if (exitCode === 0) {
      log(`recvtty: ${(e as Error).message}`);
      exitCode = 1;
    }
  }
  return process.exit(exitCode);
}
