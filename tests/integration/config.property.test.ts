// The real binary on broken config.json files (fast-check mutations of a valid bundle's spec): `create` either
// succeeds, leaving a container whose state is `created`, or fails with exactly one error line and a non-zero
// exit, never a stack trace or a TypeError or RangeError of ours, and in both cases, after `delete --force`,
// nothing is left: no state dir, process, mount or cgroup. The host is kept out of reach: root.path and
// cgroupsPath stay the bundle's own.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fc, type Json, mutate, mutation } from "../../packages/libcontainer/src/spec-arbitraries.js";
import { cgroupsNamed, mountsUnder, processesUnder, settle, stateEntries } from "../stress/leaks.js";
import { IS_RUNC, rtq, useBundles } from "./helpers.js";

const { bundle } = useBundles();
const RUNS = Number(process.env.TSRUN_PROPERTY_RUNS) || 50;
// A fixed sample in CI, so a run is repeatable; TSRUN_PROPERTY_SEED=random explores. No open findings. Found and
// fixed: a config without a procfs at /proc, whose init failed its exec.fifo reopen after create returned (seeds 4
// and 20261129; now refused); an init the OOM killer took during create, which returned 0 all the same; and a
// create + delete --force that both exited 0 and left the container, because the delete ran an empty bin/tsrun
// while a build in the same checkout rewrote it in place (now renamed into place). A build still empties dist/
// for a moment, so a run alongside one can fail, though loudly.
const SEED =
  process.env.TSRUN_PROPERTY_SEED === "random" ? undefined : Number(process.env.TSRUN_PROPERTY_SEED) || 1;

/** Keeps a mutated document from reaching the host: its own rootfs, its own cgroup. */
function fenced(doc: Json, cgroupsPath: string): Json {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return doc;
  const root = doc.root;
  if (root !== null && typeof root === "object" && !Array.isArray(root) && typeof root.path === "string")
    root.path = "rootfs";
  const linux = doc.linux;
  if (linux !== null && typeof linux === "object" && !Array.isArray(linux)) linux.cgroupsPath = cgroupsPath;
  return doc;
}

describe.skipIf(IS_RUNC)("create with a broken config.json", () => {
  it(`${RUNS} mutated bundles: one error line or a container, and nothing left after delete --force`, async () => {
    const b = bundle((s) => {
      s.process!.args = ["true"];
      s.linux!.resources = { pids: { limit: 20 }, memory: { limit: 64 << 20 } };
    });
    const seed = JSON.parse(JSON.stringify(b.spec)) as Json;
    const cgroupsPath = b.spec.linux!.cgroupsPath!;
    let n = 0;
    const outcomes = { created: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (muts) => {
        const doc = fenced(mutate(seed, muts), cgroupsPath);
        writeFileSync(join(b.dir, "config.json"), JSON.stringify(doc));
        const id = `p${n++}`;
        const r = await rtq(b, ["create", "--bundle", b.dir, id]);
        const err = r.stderr;
        if (r.code === 0) {
          outcomes.created++;
          expect(err).toBe("");
          // Exit 0 means an init waiting on exec.fifo, not one killed on its way there (a tiny memory limit).
          const st = await rtq(b, ["state", id]);
          expect(JSON.parse(st.stdout || "{}").status, st.stderr).toBe("created");
        } else {
          outcomes.refused++;
          expect(err.trimEnd().split("\n"), err).toHaveLength(1);
          expect(err).toMatch(/^time="[^"]+" level=error msg=/);
          expect(err).not.toMatch(
            /\n\s+at |TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack/,
          );
        }
        expect(r.stdout).toBe("");
        const d = await rtq(b, ["delete", "--force", id]);
        expect([d.code, d.stderr]).toEqual([0, ""]);
        await settle(() => processesUnder(b.dir).length === 0 && cgroupsNamed(cgroupsPath).length === 0);
        if (process.env.TSRUN_PROPERTY_DEBUG && stateEntries(b.root).includes(id))
          writeFileSync(
            `/tmp/tsrun-prop-${id}.txt`,
            `${JSON.stringify({ create: r, delete: d, files: readdirSync(join(b.root, id)) })}\n${JSON.stringify(doc)}\n`,
          );
        expect({
          processes: processesUnder(b.dir),
          cgroups: cgroupsNamed(cgroupsPath),
          mounts: mountsUnder(b.dir),
          // This run's only: a failure shrinks by running again, and must not fail again for an old leftover.
          state: stateEntries(b.root).filter((e) => e === id),
        }).toEqual({ processes: [], cgroups: [], mounts: [], state: [] });
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    // Both ends were reached: the mutations are neither all harmless nor all fatal.
    expect(outcomes.refused).toBeGreaterThan(0);
    process.stderr.write(`config property: ${outcomes.created} created, ${outcomes.refused} refused\n`);
  }, 300_000);
});
