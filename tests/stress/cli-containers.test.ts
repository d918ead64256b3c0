// The same load through the real binary, one process per call as clients drive it: 100 containers, 10 in flight,
// each created, started, signalled and then deleted by two `delete --force` at once (containerd's cleanup races
// its first delete). Every call must exit 0 with nothing on stderr, and nothing may be left. Needs TSRUN_STRESS=1.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultSpec } from "../../packages/libcontainer/src/index.js";
import { ENV, IS_RUNC, RUNTIME, rootfs } from "../integration/helpers.js";
import { cgroupsNamed, mountsUnder, processesUnder, settle, stateEntries } from "./leaks.js";

const N = Number(process.env.TSRUN_STRESS_COUNT) || 100;
const PARALLEL = Number(process.env.TSRUN_STRESS_PARALLEL) || 10;

function call(root: string, cwd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // stdout/stdin to /dev/null: a detached container inherits them and must not hold our pipes.
    const child = spawn(RUNTIME, ["--root", root, ...args], {
      cwd,
      env: ENV,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const err: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stderr: Buffer.concat(err).toString() }));
  });
}

describe.skipIf(!process.env.TSRUN_STRESS)(
  `${N} containers through the binary, ${PARALLEL} at a time`,
  () => {
    // Made in the test: a skipped describe still runs its body.
    let base = "";
    afterAll(() => {
      if (base) rmSync(base, { recursive: true, force: true });
    });

    it("every call succeeds and nothing is left", async () => {
      base = mkdtempSync(join(tmpdir(), "tsrun-stress-cli-"));
      const root = join(base, "state");
      const shared = rootfs();
      const cgroups: string[] = [];
      const failures: string[] = [];
      const timings: number[] = [];
      const one = async (i: number) => {
        const t0 = performance.now();
        const id = `c${i}`;
        const bundle = join(base, id);
        mkdirSync(bundle);
        const spec = defaultSpec();
        spec.root = { path: shared, readonly: true };
        spec.process!.terminal = false;
        spec.process!.args = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"];
        spec.linux!.cgroupsPath = `/${base.split("/").pop()}-${id}`;
        cgroups.push(spec.linux!.cgroupsPath);
        writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
        const steps: string[][][] = [
          [["create", "--bundle", bundle, id]],
          [["start", id]],
          [["kill", id, "15"]],
          [
            ["delete", "--force", id],
            ["delete", "--force", id],
          ],
        ];
        for (const step of steps) {
          const rs = await Promise.all(step.map((args) => call(root, bundle, args)));
          for (const [k, r] of rs.entries())
            if (r.code !== 0 || r.stderr !== "")
              failures.push(`${step[k]!.join(" ")}: ${r.code} ${r.stderr.trim()}`);
        }
        timings.push(performance.now() - t0);
      };
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < N) await one(next++);
        }),
      );
      const ms = performance.now() - t0;
      expect(failures).toEqual([]);
      const left = () => [
        ...processesUnder(base).map((p) => `process ${p}`),
        ...cgroups.flatMap(cgroupsNamed).map((d) => `cgroup ${d}`),
        ...mountsUnder(base).map((m) => `mount ${m}`),
        ...stateEntries(root).map((e) => `state ${e}`),
      ];
      await settle(() => left().length === 0);
      expect(left()).toEqual([]);
      const t = timings.sort((a, b) => a - b);
      const pct = (p: number) => Math.round(t[Math.min(t.length - 1, Math.floor((p / 100) * t.length))] ?? 0);
      process.stderr.write(
        `stress cli (${IS_RUNC ? "runc" : "tsrun"}): ${N} containers (6 calls each), ${PARALLEL} at a time, ` +
          `${Math.round(ms)} ms in all; one container p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms\n`,
      );
    }, 900_000);
  },
);
