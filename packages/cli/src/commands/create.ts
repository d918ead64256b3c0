import { createContainer, runContainer } from "@tsrun/libcontainer";
import { type FlagDef, parseFlags, requireArgs } from "../flags.js";
import type { Command } from "./context.js";

const common: FlagDef[] = [
  { names: ["bundle", "b"], kind: "string" },
  { names: ["console-socket"], kind: "string" },
  { names: ["pid-file"], kind: "string" },
  { names: ["no-pivot"], kind: "bool" },
  { names: ["no-new-keyring"], kind: "bool" },
  { names: ["preserve-fds"], kind: "number" },
];

function options(flags: Record<string, unknown>, root: string, id: string, debug: boolean) {
  return {
    root,
    id,
    bundle: (flags.bundle as string | undefined) || ".",
    consoleSocket: flags["console-socket"] as string | undefined,
    pidFile: flags["pid-file"] as string | undefined,
    noPivot: !!flags["no-pivot"],
    noNewKeyring: !!flags["no-new-keyring"],
    // systemd socket activation: LISTEN_FDS are passed on after stdio, as runc does.
    preserveFds: ((flags["preserve-fds"] as number | undefined) ?? 0) + listenFds(),
    debug,
  };
}

function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS);
  return Number.isInteger(n) && n > 0 && Number(process.env.LISTEN_PID) === process.pid ? n : 0;
}

export const create: Command = async (ctx, argv) => {
  const { flags, args } = parseFlags(common, argv);
  requireArgs("create", args, 1);
  await createContainer({ ...options(flags, ctx.root, args[0]!, ctx.debug), detach: true });
  return 0;
};

export const run: Command = async (ctx, argv) => {
  const { flags, args } = parseFlags(
    [
      ...common,
      { names: ["detach", "d"], kind: "bool" },
      { names: ["keep"], kind: "bool" },
      { names: ["no-subreaper"], kind: "bool" },
    ],
    argv,
  );
  requireArgs("run", args, 1);
  return runContainer({
    ...options(flags, ctx.root, args[0]!, ctx.debug),
    detach: !!flags.detach,
    keep: !!flags.keep,
  });
};
