// Shared by the end-to-end suite: real containerd and podman driving the runtime under test (tsrun by default,
// any runc-compatible binary through TSRUN_TEST_RUNTIME; /usr/sbin/runc must pass every case, which guards the
// tests). Every file skips itself unless TSRUN_E2E=1, so that the ordinary root test run is unaffected.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));

export const E2E = process.env.TSRUN_E2E === "1";
export const RUNTIME = process.env.TSRUN_TEST_RUNTIME || join(repo, "packages/cli/bin/tsrun");
export const PTY_RUN = fileURLToPath(new URL("./pty-run.py", import.meta.url));
/** Calls containerd's Tasks.Update (ctr 1.6 has no command for it): SOCKET NAMESPACE ID RESOURCES_JSON. */
export const TASK_UPDATE = fileURLToPath(new URL("./task-update.py", import.meta.url));
/** The environment given to clients: what a service manager would give them, no more. */
export const ENV: NodeJS.ProcessEnv = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
};

/**
 * A shell line that prints what a container's process sees of its runtime: capabilities, no_new_privs, seccomp,
 * umask and nofile, masked and read-only paths, /dev and the mounts.
 */
export const FACTS = [
  'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status',
  'echo "umask=$(umask) nofile=$(ulimit -n)"',
  'echo "timer_list=$(wc -c < /proc/timer_list) firmware=$(ls /sys/firmware | wc -l)"',
  "(echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo proc-sys-rw || echo proc-sys-ro",
  "echo dev: $(ls /dev)",
  'echo "fd=$(readlink /dev/fd) null=$(echo x > /dev/null && echo ok) zero=$(head -c 3 /dev/zero | wc -c)"',
  'mount | grep -E " /(proc|sys|dev|dev/pts|dev/shm|dev/mqueue|run|sys/fs/cgroup) " | cut -d" " -f1-5 | sort',
].join("; ");

/** Clients size the container's terminal only after start: a shell line that waits for a size and prints it. */
export const WAIT_SIZE =
  'for i in $(seq 50); do s=$(stty size 2>/dev/null); case "$s" in ""|"0 0") sleep 0.1;; *) break;; esac; done; echo "size=$s"';

/** A fresh directory for one client's everything: config, root, state, sockets, rootfs. */
export function tempBase(name: string): string {
  return mkdtempSync(`/tmp/tsrun-e2e-${name}-`);
}

/** The busybox rootfs from tools/rootfs. */
export function makeRootfs(dest: string): string {
  execFileSync("bash", [join(repo, "tools/rootfs/make-rootfs.sh"), dest]);
  return dest;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr in one string, for messages. */
  all: string;
}

export interface RunOpts {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeout?: number;
  cwd?: string;
  /** Keep stdin open until this returns true for the output so far (a client may only see EOF once started). */
  closeStdinWhen?: (out: string) => boolean;
}

/** Runs a command in its own process group and kills the group when it outlives the timeout. */
export function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<Result> {
  const child = spawn(cmd, args, {
    env: opts.env ?? ENV,
    cwd: opts.cwd,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return collect(child, opts);
}

export function collect(child: ChildProcess, opts: RunOpts = {}): Promise<Result> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let stdinOpen = true;
  const endStdin = () => {
    if (stdinOpen) {
      stdinOpen = false;
      child.stdin?.end();
    }
  };
  child.stdout?.on("data", (d: Buffer) => {
    out.push(d);
    if (opts.closeStdinWhen?.(Buffer.concat(out).toString())) endStdin();
  });
  child.stderr?.on("data", (d: Buffer) => err.push(d));
  if (child.stdin) {
    child.stdin.on("error", () => {});
    if (opts.input !== undefined) child.stdin.write(opts.input);
    if (!opts.closeStdinWhen) endStdin();
  }
  const timeout = opts.timeout ?? 30_000;
  const timer = setTimeout(() => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, timeout);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (signal === "SIGKILL") {
        reject(new Error(`timed out after ${timeout} ms: ${child.spawnargs.join(" ")}\n${stdout}${stderr}`));
        return;
      }
      resolve({ code, signal, stdout, stderr, all: stdout + stderr });
    });
  });
}

/** Runs a command inside a real pseudo-terminal of ROWSxCOLS; output is what the terminal showed. */
export function runInPty(
  rows: number,
  cols: number,
  cmd: string[],
  opts: { sends?: [string, string][]; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<Result> {
  const sendArgs = (opts.sends ?? []).flatMap(([marker, text]) => ["--send-after", marker, text]);
  return run("/usr/bin/python3", [PTY_RUN, String(rows), String(cols), ...sendArgs, "--", ...cmd], {
    env: { ...(opts.env ?? ENV), TERM: "xterm" },
    timeout: opts.timeout,
  });
}

export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Processes that name anything under one of these directories (shims, conmons, clients), whose root lies there,
 * or that sit in a cgroup whose path contains one of the markers (containers, whose root the host cannot name).
 */
export function processesUnder(dirs: string[], cgroupMarkers: string[] = []): string[] {
  const found: string[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const root = readlinkSync(`/proc/${p}/root`);
      const cmdline = readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      const cgroup = readFileSync(`/proc/${p}/cgroup`, "utf8");
      if (
        dirs.some((d) => root.startsWith(d) || cmdline.includes(d)) ||
        cgroupMarkers.some((m) => cgroup.includes(m))
      )
        found.push(`${p}: ${cmdline} (root ${root})`);
    } catch {}
  }
  return found;
}

export function killProcesses(dirs: string[], cgroupMarkers: string[] = []): void {
  for (const line of processesUnder(dirs, cgroupMarkers)) {
    try {
      process.kill(Number(line.split(":")[0]), "SIGKILL");
    } catch {}
  }
}

/** Mount points anywhere on the host whose path or source lies under one of these directories. */
export function mountsUnder(dirs: string[]): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => dirs.some((d) => l.includes(d)));
}

export function unmountUnder(dirs: string[]): void {
  const points = mountsUnder(dirs)
    .map((l) => l.split(" ")[4])
    .filter((p): p is string => !!p && dirs.some((d) => p.startsWith(d)))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try {
      execFileSync("umount", ["-l", p], { stdio: "ignore" });
    } catch {}
  }
}

/** Every cgroup directory at or below `rel` in every mounted hierarchy (v1 controllers and the unified tree). */
export function cgroupsUnder(rel: string): string[] {
  const found: string[] = [];
  for (const h of cgroupHierarchies()) {
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      found.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    walk(join(h, rel));
  }
  return found;
}

/** cgroup directories below `rel` that still hold a process. */
export function busyCgroupsUnder(rel: string): string[] {
  return cgroupsUnder(rel).filter((d) => {
    try {
      return readFileSync(join(d, "cgroup.procs"), "utf8").trim() !== "";
    } catch {
      return false;
    }
  });
}

/** Removes empty cgroups at and below `rel`, deepest first; returns those that could not be removed. */
export function removeCgroups(rel: string): string[] {
  const left: string[] = [];
  for (const d of cgroupsUnder(rel).sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {
      left.push(d);
    }
  }
  return left;
}

function cgroupHierarchies(): string[] {
  const out = new Set<string>();
  for (const l of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = l.split(" - ");
    if (sep.length < 2) continue;
    const fstype = sep[1]?.split(" ")[0];
    if (fstype === "cgroup" || fstype === "cgroup2") out.add(l.split(" ")[4] as string);
  }
  return [...out];
}

/** Entries of a runtime state root (runc's /run/runc, tsrun's /run/tsrun, a shim's --root) matching a filter. */
export function stateEntries(root: string, match: (name: string) => boolean): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter(match)
    .map((n) => join(root, n));
}

/** Deletes leaked runtime state with the runtime itself (killing what it still runs), then removes what is left. */
export function removeState(paths: string[]): void {
  for (const p of paths) {
    try {
      execFileSync(RUNTIME, ["--root", dirname(p), "delete", "--force", basename(p)], {
        stdio: "ignore",
        timeout: 10_000,
      });
    } catch {}
    rmSync(p, { recursive: true, force: true });
  }
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * After a suite: waits for its client to settle, then finds and kills the processes left under base or in a cgroup
 * whose path contains marker, and finds and unmounts the mounts under base. Returns what it found.
 */
export async function sweep(base: string, marker: string): Promise<{ procs: string[]; mounts: string[] }> {
  await sleep(200);
  const procs = processesUnder([base], [marker]);
  killProcesses([base], [marker]);
  const mounts = mountsUnder([base]);
  unmountUnder([base]);
  return { procs, mounts };
}
