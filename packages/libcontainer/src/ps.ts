// ps: the processes of a container, from its cgroup (runc's `ps`): as a JSON array of host pids, or as the lines of
// the host's `ps` whose PID column is one of them.

import { existsSync } from "node:fs";
import { CgroupError } from "./cgroups/index.js";
import { childProcess } from "./child-process.js";
import { loadContainer } from "./container.js";
import { ContainerError } from "./container-error.js";

/** Host pids in the container's cgroup (and its sub-cgroups); a stopped container whose cgroup is gone has none. */
export function containerPids(root: string, id: string): number[] {
  const c = loadContainer(root, id);
  if (c.status === "stopped" && !Object.values(c.cgroups.paths).some((d) => existsSync(d))) return [];
  try {
    return c.cgroups.pids();
  } catch (e) {
    if (e instanceof CgroupError) throw new ContainerError(`unable to get all container pids: ${e.message}`);
    throw e;
  }
}

/** runc encodes a Go slice that stays nil when nothing was found: `null`, then a newline. */
export function pidsJson(pids: readonly number[]): string {
  return `${pids.length === 0 ? "null" : JSON.stringify(pids)}\n`;
}

/** The header of `ps` output and the lines whose PID column is in `pids`, each ending in a newline. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split("\n");
  const header = lines[0] ?? "";
  const pidIndex = header.trim().split(/\s+/).indexOf("PID");
  if (pidIndex < 0) throw new ContainerError("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  let out = `${header}\n`;
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const field = line.trim().split(/\s+/)[pidIndex] ?? "";
    if (!/^[+-]?\d+$/.test(field))
      throw new ContainerError(
        `unable to parse pid: strconv.Atoi: parsing ${JSON.stringify(field)}: invalid syntax`,
      );
    if (wanted.has(Number(field))) out += `${line}\n`;
  }
  return out;
}

/** Runs the host's `ps` (default `-ef`) and keeps the container's lines, as runc does. */
export function psTable(root: string, id: string, psArgs: readonly string[]): string {
  const pids = containerPids(root, id);
  const r = childProcess().spawnSync("ps", psArgs.length > 0 ? [...psArgs] : ["-ef"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PATH: process.env.PATH || "/usr/local/bin:/usr/bin:/bin" },
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ContainerError('exec: "ps": executable file not found in $PATH');
    throw new ContainerError(`exec: "ps": ${code ?? r.error.message}`);
  }
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) {
    const how = r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`;
    throw new ContainerError(`${how}: ${output}`);
  }
  return filterPsOutput(output, pids);
}
