// Where a container process's cgroups are on the host, read from /proc/PID/cgroup, so that tests can check the
// kernel's files whatever cgroupsPath rule the runtime under test follows.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The host directory of `controller` for `pid` (v1 hierarchy, or the v2 tree when the host is pure v2). */
export function cgroupDir(pid: number, controller: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").filter(Boolean);
  for (const line of lines) {
    const [, list = "", path = ""] = line.split(":");
    if (list.split(",").includes(controller)) {
      const dir = join("/sys/fs/cgroup", controller, path);
      if (existsSync(dir)) return dir;
      const combined = join("/sys/fs/cgroup", list, path);
      if (existsSync(combined)) return combined;
    }
  }
  const v2 = lines.find((l) => l.startsWith("0::"));
  if (v2 && existsSync("/sys/fs/cgroup/cgroup.controllers")) return join("/sys/fs/cgroup", v2.slice(3));
  throw new Error(`no ${controller} cgroup for pid ${pid}`);
}

export function cgroupFile(pid: number, controller: string, file: string): string {
  return readFileSync(join(cgroupDir(pid, controller), file), "utf8").trim();
}

/** "key value" lines of a stat file as numbers. */
export function statOf(text: string): Record<string, number> {
  return Object.fromEntries(
    text
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 2)
      .map(([k, v]) => [k!, Number(v)]),
  );
}
