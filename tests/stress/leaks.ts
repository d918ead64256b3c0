// What a container can leave on the host once it is gone, looked for from the outside: processes still working in
// a bundle, cgroup directories in any hierarchy, mounts under a path, entries under a state root.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** Live processes whose cwd or root is inside `dir` (a container's init, its stage 0, a hook started there). */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
      if (state === "Z" || state === "X") continue;
      for (const link of ["cwd", "root"]) {
        const target = readlinkSync(`/proc/${name}/${link}`);
        if (target === dir || target.startsWith(`${dir}/`)) {
          found.push(Number(name));
          break;
        }
      }
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

/** Cgroup directories named `cgroupsPath` in every mounted hierarchy (v1 controllers, unified, named). */
export function cgroupsNamed(cgroupsPath: string): string[] {
  const found: string[] = [];
  const base = "/sys/fs/cgroup";
  if (existsSync(join(base, "cgroup.controllers"))) {
    if (existsSync(join(base, cgroupsPath))) found.push(join(base, cgroupsPath));
    return found;
  }
  for (const h of readdirSync(base))
    if (existsSync(join(base, h, cgroupsPath))) found.push(join(base, h, cgroupsPath));
  return found;
}

/** Host mount points at or under `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Entries of a state root (missing root: none). */
export function stateEntries(root: string): string[] {
  return existsSync(root) ? readdirSync(root) : [];
}

export async function settle(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
