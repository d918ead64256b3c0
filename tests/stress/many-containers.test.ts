// Many containers through the libcontainer API in this process, created, started and deleted concurrently with
// a bound on how many are in flight: afterwards this process holds no more fds than before, and no process,
// mount, cgroup, zombie or state directory is left. The 10-container run is part of the root suite; the
// 100-container run needs TSRUN_STRESS=1 (`pnpm run test:stress`).
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  containerState,
  createContainer,
  defaultSpec,
  deleteContainer,
  startContainer,
} from "../../packages/libcontainer/src/index.js";
import { kill, tryReap } from "../../packages/libcontainer/src/libc.js";
import { rootfs } from "../integration/helpers.js";
import { cgroupsNamed, mountsUnder, processesUnder, settle, stateEntries } from "./leaks.js";

const PARALLEL = Number(process.env.TSRUN_STRESS_PARALLEL) || 10;

function fds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      out.push(`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // the fd readdir itself used
    }
  }
  return out.sort();
}

interface Run {
  base: string;
  root: string;
  cgroups: string[];
  pids: number[];
  timings: number[];
  /** Containers whose `exit 3` ran before the delete. */
  ranToEnd: number;
}

/** One container's whole life: create, start, a signal, delete --force; its init is our child, so we reap it. */
async function lifecycle(run: Run, i: number, shared: string): Promise<void> {
  const t0 = performance.now();
  const id = `s${i}`;
  const bundle = join(run.base, id);
  mkdirSync(bundle);
  const spec = defaultSpec();
  spec.root = { path: shared, readonly: true };
  spec.process!.terminal = false;
  // Alternate the ends: some exit by themselves before the delete, others are killed by it.
  spec.process!.args = i % 2 ? ["sh", "-c", "exit 3"] : ["sh", "-c", "trap 'exit 0' TERM; sleep 30 & wait"];
  const cg = `/${run.base.split("/").pop()}-${id}`;
  spec.linux!.cgroupsPath = cg;
  run.cgroups.push(cg);
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  const c = await createContainer({ root: run.root, id, bundle, detach: true });
  const pid = c.state.pid;
  run.pids.push(pid);
  await startContainer(run.root, id);
  const status = containerState(run.root, id).status;
  if (status !== "running" && status !== "stopped") throw new Error(`${id}: ${status} after start`);
  if (i % 2) {
    // Deleted once stopped: its program must have run to its end.
    await settle(() => containerState(run.root, id).status === "stopped", 5000);
  } else if (i % 4 === 0) kill(pid, 15);
  await deleteContainer(run.root, id, true);
  // The init is gone (a zombie at most) once delete returns; it is ours to reap. Its status shows that the
  // program really ran.
  let code: number | undefined;
  await settle(() => {
    code = tryReap(pid);
    return code !== undefined;
  }, 5000);
  // SIGKILL (137) when the delete came first, SIGTERM (143) before the trap was set.
  const expected = i % 2 ? [3] : [0, 137, 143];
  if (!expected.includes(code ?? -1)) throw new Error(`${id}: exit status ${code}, expected ${expected}`);
  if (code === 3) run.ranToEnd++;
  run.timings.push(performance.now() - t0);
}

/** Every base made, removed after the file whether its run passed or not. */
const bases: string[] = [];

async function many(n: number): Promise<Run> {
  const base = mkdtempSync(join(tmpdir(), "tsrun-stress-"));
  bases.push(base);
  const run: Run = { base, root: join(base, "state"), cgroups: [], pids: [], timings: [], ranToEnd: 0 };
  const shared = rootfs();
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await lifecycle(run, i, shared).catch((e) => failures.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, n) }, worker));
  expect(failures).toEqual([]);
  return run;
}

function leftovers(run: Run): string[] {
  const found: string[] = [];
  for (const p of processesUnder(run.base)) found.push(`process ${p}`);
  for (const p of run.pids) if (tryReap(p) !== undefined) found.push(`unreaped ${p}`);
  for (const cg of run.cgroups) for (const d of cgroupsNamed(cg)) found.push(`cgroup ${d}`);
  for (const m of mountsUnder(run.base)) found.push(`mount ${m}`);
  for (const m of mountsUnder(rootfs())) found.push(`mount ${m}`);
  for (const e of stateEntries(run.root)) found.push(`state ${e}`);
  return found;
}

function report(label: string, run: Run, ms: number): void {
  const t = [...run.timings].sort((a, b) => a - b);
  const pct = (p: number) => Math.round(t[Math.min(t.length - 1, Math.floor((p / 100) * t.length))] ?? 0);
  process.stderr.write(
    `${label}: ${t.length} containers, ${PARALLEL} at a time, ${Math.round(ms)} ms in all; ` +
      `one lifecycle p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms\n`,
  );
}

function suite(n: number, timeout: number) {
  beforeAll(() => {
    rootfs(); // built once, outside the measured part
  });
  afterAll(() => {
    for (const b of bases.splice(0)) rmSync(b, { recursive: true, force: true });
  });
  it(
    `creates, starts and deletes ${n} containers with no fd, process, mount, cgroup or state left`,
    async () => {
      // One warm-up container, so that fds opened once for good (koffi's libc, the cgroup layout) are counted
      // before as after.
      await many(1);
      // primeCgroupAttach's write may still wait for its grace period (the only cgroup.procs fd that outlives a
      // call): its fd closes when that ends, so both counts are taken without it.
      const primed = () => fds().some((f) => f.endsWith("/cgroup.procs"));
      await settle(() => !primed());
      const before = fds();
      const t0 = performance.now();
      const run = await many(n);
      const ms = performance.now() - t0;
      await settle(() => leftovers(run).length === 0);
      expect(leftovers(run)).toEqual([]);
      await settle(() => !primed());
      expect(fds()).toEqual(before);
      expect(run.ranToEnd).toBe(Math.floor(n / 2));
      report(`stress ${n}`, run, ms);
    },
    timeout,
  );
}

describe("10 containers at once (in process)", () => suite(10, 60_000));

describe.skipIf(!process.env.TSRUN_STRESS)("100 containers, 10 at a time (in process)", () =>
  suite(100, 600_000),
);
