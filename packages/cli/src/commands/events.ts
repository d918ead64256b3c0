// events: container statistics and OOM notifications, as runc prints them (one JSON object a line).
import { containerState, statsEvent, validateId, watchEvents } from "@tsrun/libcontainer";
import { parseFlags, requireArgs, UsageError } from "../flags.js";
import type { Command } from "./context.js";

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in milliseconds ("5s", "1m30s", "250ms", "0"); undefined when invalid. */
export function parseDuration(s: string): number | undefined {
  if (s === "0" || s === "+0" || s === "-0") return 0;
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g))
    total += Number(part[1]) * UNITS[part[2]!]!;
  return m[1] === "-" ? -total : total;
}

export const events: Command = async (ctx, argv) => {
  const { flags, args } = parseFlags(
    [
      { names: ["interval"], kind: "string" },
      { names: ["stats"], kind: "bool" },
    ],
    argv,
  );
  const text = (flags.interval as string | undefined) ?? "5s";
  const interval = parseDuration(text);
  if (interval === undefined) throw new UsageError(`invalid value "${text}" for flag -interval: parse error`);
  requireArgs("events", args, 1);
  const id = args[0]!;
  validateId(id);
  if (interval <= 0) {
    containerState(ctx.root, id); // runc reports a missing container first
    throw new UsageError("duration interval must be greater than 0");
  }
  if (flags.stats) {
    process.stdout.write(statsEvent(ctx.root, id));
    return 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await watchEvents(ctx.root, id, {
      intervalMs: interval,
      write: (line) => process.stdout.write(line),
      signal: stop.signal,
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
};
