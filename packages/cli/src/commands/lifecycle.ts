// start, kill, delete: one container id, one action each.
import { deleteContainer, killContainer, parseSignal, startContainer } from "@tsrun/libcontainer";
import { parseFlags, requireArgs } from "../flags.js";
import type { Command } from "./context.js";

export const start: Command = async (ctx, argv) => {
  const { args } = parseFlags([], argv);
  requireArgs("start", args, 1);
  await startContainer(ctx.root, args[0]!);
  return 0;
};

export const kill: Command = (ctx, argv) => {
  const { flags, args } = parseFlags([{ names: ["all", "a"], kind: "bool" }], argv);
  if (args.length < 1 || args.length > 2) requireArgs("kill", args, 1, false);
  killContainer(ctx.root, args[0]!, parseSignal(args[1] ?? "SIGTERM"), !!flags.all);
  return 0;
};

export const del: Command = async (ctx, argv) => {
  const { flags, args } = parseFlags([{ names: ["force", "f"], kind: "bool" }], argv);
  requireArgs("delete", args, 1, false);
  for (const id of args) await deleteContainer(ctx.root, id, !!flags.force);
  return 0;
};
