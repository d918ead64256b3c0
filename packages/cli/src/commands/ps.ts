// ps: the container's processes, as runc prints them (a table from the host's ps, or a JSON array of host pids).
import { containerPids, pidsJson, psTable } from "@tsrun/libcontainer";
import { parseFlags, requireArgs, UsageError } from "../flags.js";
import type { Command } from "./context.js";

export const ps: Command = (ctx, argv) => {
  const { flags, args } = parseFlags([{ names: ["format", "f"], kind: "string" }], argv);
  requireArgs("ps", args, 1, false);
  const [id, ...psArgs] = args as [string, ...string[]];
  switch (flags.format ?? "table") {
    case "json":
      process.stdout.write(pidsJson(containerPids(ctx.root, id)));
      return 0;
    case "table":
      process.stdout.write(psTable(ctx.root, id, psArgs));
      return 0;
    default:
      // runc reads the container first: a missing one says so before the format is checked.
      containerPids(ctx.root, id);
      throw new UsageError("invalid format option");
  }
};
