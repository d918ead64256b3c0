import type { LogOptions } from "../log.js";

/** What the global flags decide for every command. */
export interface Context extends LogOptions {
  root: string;
  debug: boolean;
}

/** A command's result: the process's exit code. */
export type Command = (ctx: Context, argv: string[]) => Promise<number> | number;
