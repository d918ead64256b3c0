import { features as describe } from "@tsrun/libcontainer";
import { parseFlags } from "../flags.js";
import type { Command } from "./context.js";

export const features: Command = (_ctx, argv) => {
  parseFlags([], argv);
  process.stdout.write(`${JSON.stringify(describe(), null, "    ")}\n`);
  return 0;
};
