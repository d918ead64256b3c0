// Keeps the bench from rotting: --quick must produce every row for every runtime that runs here. No timing is
// asserted; the numbers belong in docs/benchmarks.md, not in a test.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BENCH = fileURLToPath(new URL("./bench.mjs", import.meta.url));
const isRoot = process.getuid?.() === 0;

interface Row {
  key: string;
  cells: Record<string, { median: number; p90: number }>;
}

describe.skipIf(!isRoot)("bench --quick", () => {
  it("produces every row for tsrun and runc", { timeout: 180_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "tsrun-bench-test-"));
    try {
      const json = join(dir, "out.json");
      const env = { ...process.env };
      delete env.NODE_EXTRA_CA_CERTS;
      execFileSync(process.execPath, [BENCH, "--quick", "--json", json], {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out = JSON.parse(readFileSync(json, "utf8")) as {
        quick: boolean;
        rows: Row[];
        floor: Record<string, { median: number } | undefined>;
      };
      expect(out.quick).toBe(true);
      expect(out.rows.map((r) => r.key)).toEqual(["run", "detached", "pipe", "tty", "rss", "initRss"]);
      for (const row of out.rows)
        for (const rt of ["tsrun", "runc"]) {
          const cell = row.cells[rt];
          expect(cell, `${row.key} ${rt}`).toBeDefined();
          expect(Number.isFinite(cell!.median) && cell!.median > 0, `${row.key} ${rt}: ${cell!.median}`).toBe(
            true,
          );
        }
      for (const key of ["node", "tsrunVersion", "runcVersion"])
        expect(out.floor[key]?.median, `floor ${key}`).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
