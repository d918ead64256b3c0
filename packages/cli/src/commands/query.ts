// state and list, printed exactly as runc prints them.
import { containerState, listContainers, type OciState } from "@tsrun/libcontainer";
import { parseFlags, requireArgs, UsageError } from "../flags.js";
import type { Command } from "./context.js";

export const state: Command = (ctx, argv) => {
  const { args } = parseFlags([], argv);
  requireArgs("state", args, 1);
  process.stdout.write(JSON.stringify(containerState(ctx.root, args[0]!), null, "  "));
  return 0;
};

export const list: Command = (ctx, argv) => {
  const { flags } = parseFlags(
    [
      { names: ["format", "f"], kind: "string" },
      { names: ["quiet", "q"], kind: "bool" },
    ],
    argv,
  );
  const all = listContainers(ctx.root);
  if (flags.quiet) {
    for (const c of all) process.stdout.write(`${c.id}\n`);
    return 0;
  }
  switch (flags.format ?? "table") {
    case "json":
      process.stdout.write(`${JSON.stringify(all)}\n`);
      return 0;
    case "table":
      process.stdout.write(table(all));
      return 0;
    default:
      throw new UsageError("invalid format option");
  }
};

/** Go's tabwriter with runc's settings: minimum width 12, padding 3, spaces. */
function table(all: OciState[]): string {
  const rows = [
    ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
    ...all.map((c) => [c.id, String(c.pid), c.status, c.bundle, c.created, c.owner]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(12, ...rows.map((r) => r[i]!.length + 3)));
  return rows
    .map((r) => `${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("")}\n`)
    .join("");
}
