// update: new cgroup limits for a live container, from runc's flags or a LinuxResources document (file or stdin).
import { appendFileSync, readFileSync } from "node:fs";
import {
  ContainerError,
  updateContainer,
  updateFromFlags,
  updateFromJson,
  validateId,
} from "@tsrun/libcontainer";
import { type FlagDef, parseFlags, requireArgs } from "../flags.js";
import { formatLine } from "../log.js";
import type { Command } from "./context.js";

const STRINGS = [
  "cpu-period",
  "cpu-quota",
  "cpu-share",
  "cpu-rt-period",
  "cpu-rt-runtime",
  "cpuset-cpus",
  "cpuset-mems",
  "memory",
  "memory-reservation",
  "memory-swap",
  "kernel-memory",
  "kernel-memory-tcp",
  "l3-cache-schema",
  "mem-bw-schema",
];
const FLAGS: FlagDef[] = [
  { names: ["resources", "r"], kind: "string" },
  { names: ["blkio-weight"], kind: "number" },
  { names: ["pids-limit"], kind: "number" },
  ...STRINGS.map((name) => ({ names: [name], kind: "string" as const })),
];

export const update: Command = (ctx, argv) => {
  const { flags, args } = parseFlags(FLAGS, argv);
  requireArgs("update", args, 1);
  const id = args[0]!;
  validateId(id);
  const s = (name: string) => flags[name] as string | undefined;
  let u: ReturnType<typeof updateFromJson>;
  const from = s("resources");
  if (from) {
    let text: string;
    try {
      text = readFileSync(from === "-" ? 0 : from, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ContainerError(`open ${from}: ${code === "ENOENT" ? "no such file or directory" : code}`);
    }
    u = updateFromJson(text);
  } else {
    if (s("l3-cache-schema") || s("mem-bw-schema"))
      throw new ContainerError("Intel RDT is not supported by tsrun: --l3-cache-schema and --mem-bw-schema");
    u = updateFromFlags({
      blkioWeight: flags["blkio-weight"] as number | undefined,
      cpuPeriod: s("cpu-period"),
      cpuQuota: s("cpu-quota"),
      cpuShare: s("cpu-share"),
      cpuRtPeriod: s("cpu-rt-period"),
      cpuRtRuntime: s("cpu-rt-runtime"),
      cpusetCpus: s("cpuset-cpus"),
      cpusetMems: s("cpuset-mems"),
      memory: s("memory"),
      memorySwap: s("memory-swap"),
      memoryReservation: s("memory-reservation"),
      kernelMemory: s("kernel-memory"),
      kernelMemoryTcp: s("kernel-memory-tcp"),
      pidsLimit: flags["pids-limit"] as number | undefined,
    });
  }
  for (const w of updateContainer(ctx.root, id, u)) {
    // A warning, as runc logs it: only to the log file when there is one, else to stderr.
    if (ctx.file) appendFileSync(ctx.file, formatLine("warning", w, ctx.format));
    else process.stderr.write(formatLine("warning", w, "text"));
  }
  return 0;
};
