// tsrun: global flags in runc's order and meaning, then one subcommand. Every failure ends as one error line
// (see log.ts) and exit status 1, as runc; nothing is printed on success.
import { CgroupError, ConfigError, ContainerError, SyscallError } from "@tsrun/libcontainer";
import type { Command, Context } from "./commands/context.js";
import { create, run } from "./commands/create.js";
import { events } from "./commands/events.js";
import { exec } from "./commands/exec.js";
import { features } from "./commands/features.js";
import { del, kill, start } from "./commands/lifecycle.js";
import { pause, resume } from "./commands/pause.js";
import { ps } from "./commands/ps.js";
import { list, state } from "./commands/query.js";
import { spec } from "./commands/spec.js";
import { update } from "./commands/update.js";
import { parseFlags, UsageError } from "./flags.js";
import { logError } from "./log.js";
import { usage, VERSION_TEXT } from "./usage.js";

const COMMANDS: Record<string, Command> = {
  create,
  run,
  exec,
  start,
  kill,
  delete: del,
  state,
  list,
  spec,
  features,
  ps,
  pause,
  resume,
  update,
  events,
};

/** Commands runc has that tsrun does not do yet: a clear error, not "unknown command". */
const LATER = new Set(["checkpoint", "restore"]);

const GLOBAL = [
  { names: ["root"], kind: "string" as const },
  { names: ["log"], kind: "string" as const },
  { names: ["log-format"], kind: "string" as const },
  { names: ["debug"], kind: "bool" as const },
  { names: ["systemd-cgroup"], kind: "bool" as const },
  { names: ["rootless"], kind: "string" as const },
  { names: ["criu"], kind: "string" as const },
  { names: ["help", "h"], kind: "bool" as const },
  { names: ["version", "v"], kind: "bool" as const },
];

export async function main(argv: string[]): Promise<number> {
  let ctx: Context = { root: "/run/tsrun", debug: false, format: "text" };
  try {
    const { flags, args } = parseFlags(GLOBAL, argv);
    const format = (flags["log-format"] as string | undefined) ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`invalid log-format: ${format}`);
    ctx = {
      root: (flags.root as string | undefined) || defaultRoot(),
      debug: !!flags.debug,
      file: flags.log as string | undefined,
      format,
    };
    if (flags.version) {
      process.stdout.write(VERSION_TEXT);
      return 0;
    }
    const [name, ...rest] = args;
    if (flags.help || !name || name === "help") {
      process.stdout.write(usage());
      return name || flags.help ? 0 : 0;
    }
    if (flags["systemd-cgroup"])
      throw new ContainerError("--systemd-cgroup is not supported yet: use cgroupfs paths");
    const command = COMMANDS[name];
    if (!command) {
      if (LATER.has(name)) throw new ContainerError(`tsrun ${name} is not implemented yet`);
      throw new UsageError(`No help topic for '${name}'`);
    }
    return await command(ctx, rest);
  } catch (e) {
    logError(ctx, messageOf(e));
    return 1;
  }
}

/** runc's default is /run/runc for root; podman passes XDG_RUNTIME_DIR= empty, which means unset. */
function defaultRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (process.getuid?.() !== 0 && xdg) return `${xdg}/tsrun`;
  return "/run/tsrun";
}

/** One line whatever failed: clients read the first line of stderr, and the --log file one object per line. */
function messageOf(e: unknown): string {
  return oneLine(rawMessage(e));
}

function rawMessage(e: unknown): string {
  if (
    e instanceof ContainerError ||
    e instanceof CgroupError ||
    e instanceof ConfigError ||
    e instanceof UsageError ||
    e instanceof SyscallError
  )
    return e.message;
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ? e.message : `${e.name}: ${e.message}`;
  return String(e);
}

function oneLine(s: string): string {
  return s.trim().replace(/\s*[\r\n]+\s*/g, "; ");
}
