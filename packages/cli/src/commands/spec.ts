import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerError, defaultSpec } from "@tsrun/libcontainer";
import { parseFlags } from "../flags.js";
import type { Command } from "./context.js";

export const spec: Command = (_ctx, argv) => {
  const { flags } = parseFlags(
    [
      { names: ["bundle", "b"], kind: "string" },
      { names: ["rootless"], kind: "bool" },
    ],
    argv,
  );
  const path = join((flags.bundle as string | undefined) || ".", "config.json");
  if (existsSync(path)) throw new ContainerError("File config.json exists. Remove it first");
  const s = defaultSpec({ rootless: !!flags.rootless });
  writeFileSync(path, JSON.stringify(s, null, "\t"), { mode: 0o666 });
  return 0;
};
