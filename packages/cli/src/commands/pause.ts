// pause and resume: the cgroup freezer.
import { pauseContainer, resumeContainer } from "@tsrun/libcontainer";
import { parseFlags, requireArgs } from "../flags.js";
import type { Command } from "./context.js";

export const pause: Command = (ctx, argv) => {
  const { args } = parseFlags([], argv);
  requireArgs("pause", args, 1);
  pauseContainer(ctx.root, args[0]!);
  return 0;
};

export const resume: Command = (ctx, argv) => {
  const { args } = parseFlags([], argv);
  requireArgs("resume", args, 1);
  resumeContainer(ctx.root, args[0]!);
  return 0;
};
