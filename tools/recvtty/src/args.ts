import { parseArgs } from "node:util";

export type Mode = "single" | "null";

export interface Options {
  mode: Mode;
  pidFile: string | undefined;
  noStdin: boolean;
  socketPath: string;
}

export const usage = `usage: recvtty [--mode single|null] [--pid-file FILE] [--no-stdin] SOCKET_PATH

Receives pty masters sent to a console socket (runc --console-socket).
  single  accept one connection, then relay the terminal to this process's stdin and stdout
  null    accept any number of connections and discard their output
`;

export class UsageError extends Error {}

/** Parses recvtty's command line; throws UsageError with a lower-case message. */
export function parseOptions(argv: string[]): Options | "help" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    // parseArgs' own messages are capitalised sentences; keep ours in the house style.
    throw new UsageError((e as Error).message.replace(/^\w/, (c) => c.toLowerCase()).replace(/\.$/, ""));
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const mode = values.mode ?? "single";
  if (mode !== "single" && mode !== "null") throw new UsageError(`invalid mode ${JSON.stringify(mode)}`);
  if (positionals.length !== 1) throw new UsageError("need exactly one socket path");
  if (values["pid-file"] === "") throw new UsageError("empty --pid-file");
  return {
    mode,
    pidFile: values["pid-file"],
    noStdin: values["no-stdin"] ?? false,
    socketPath: positionals[0]!,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      mode: { type: "string", short: "m" },
      "pid-file": { type: "string" },
      "no-stdin": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
