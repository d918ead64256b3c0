// exec: runc's flags and words. Parsing stops at the container id, so `exec ID sh -c ...` passes -c to sh.
// Like runc, a failure after the arguments parsed reads "exec failed: ..." and exits 255, which tells callers
// that the runtime failed rather than the program (whose own status is returned as is).
import { ContainerError, execProcess } from "@tsrun/libcontainer";
import { parseFlags, requireArgs, UsageError } from "../flags.js";
import { logError } from "../log.js";
import type { Command } from "./context.js";

const FLAGS = [
  { names: ["console-socket"], kind: "string" as const },
  { names: ["cwd"], kind: "string" as const },
  { names: ["env", "e"], kind: "list" as const },
  { names: ["tty", "t"], kind: "bool" as const },
  { names: ["user", "u"], kind: "string" as const },
  { names: ["additional-gids", "g"], kind: "list" as const },
  { names: ["process", "p"], kind: "string" as const },
  { names: ["detach", "d"], kind: "bool" as const },
  { names: ["pid-file"], kind: "string" as const },
  { names: ["process-label"], kind: "string" as const },
  { names: ["apparmor"], kind: "string" as const },
  { names: ["no-new-privs"], kind: "bool" as const },
  { names: ["cap", "c"], kind: "list" as const },
  { names: ["preserve-fds"], kind: "number" as const },
  { names: ["cgroup"], kind: "list" as const },
  { names: ["ignore-paused"], kind: "bool" as const },
];

export const exec: Command = async (ctx, argv) => {
  const { flags, args } = parseFlags(FLAGS, argv);
  requireArgs("exec", args, 1, false);
  try {
    // Refused rather than ignored: no sub-cgroup placement yet.
    if ((flags.cgroup as string[] | undefined)?.length)
      throw new ContainerError("--cgroup is not supported yet");
    const gids = ((flags["additional-gids"] as string[] | undefined) ?? []).map((g) => {
      if (!/^-?\d+$/.test(g))
        throw new UsageError(`invalid value "${g}" for flag -additional-gids: parse error`);
      return Number(g);
    });
    const preserveFds = (flags["preserve-fds"] as number | undefined) ?? 0;
    if (preserveFds < 0) throw new UsageError(`invalid value "${preserveFds}" for flag -preserve-fds`);
    return await execProcess({
      root: ctx.root,
      id: args[0]!,
      processFile: (flags.process as string | undefined) || undefined,
      overrides: {
        args: args.slice(1),
        tty: !!flags.tty,
        env: (flags.env as string[] | undefined) ?? [],
        cwd: flags.cwd as string | undefined,
        user: flags.user as string | undefined,
        additionalGids: gids,
        caps: (flags.cap as string[] | undefined) ?? [],
        noNewPrivs: flags["no-new-privs"] as boolean | undefined,
        apparmor: flags.apparmor as string | undefined,
        processLabel: flags["process-label"] as string | undefined,
      },
      consoleSocket: (flags["console-socket"] as string | undefined) || undefined,
      pidFile: (flags["pid-file"] as string | undefined) || undefined,
      detach: !!flags.detach,
      preserveFds,
      ignorePaused: !!flags["ignore-paused"],
      debug: ctx.debug,
    });
  } catch (e) {
    logError(ctx, `exec failed: ${e instanceof Error ? e.message : String(e)}`);
    return 255;
  }
};
