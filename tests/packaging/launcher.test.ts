// bin/tsrun is written by every build and every install (scripts/make-bin.mjs), often while tests or clients call
// it. Truncated in place, the launcher was briefly an empty file, which execvp runs as an empty shell script: exit 0
// and nothing done (the property test's `delete --force` that exited 0 and left its container behind).
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it } from "vitest";

const cli = fileURLToPath(new URL("../../packages/cli", import.meta.url));
const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };

/** Runs a program to its end; a failure to start it (ETXTBSY) is a result too. */
function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    try {
      execFile(file, args, { env: ENV }, (err, _stdout, stderr) => {
        if (err && typeof err.code !== "number") resolve({ code: -1, stderr: err.message });
        else resolve({ code: err ? (err.code as number) : 0, stderr });
      });
    } catch (e) {
      resolve({ code: -1, stderr: (e as Error).message });
    }
  });
}

it("a tsrun started while the launcher is rewritten runs the old one or the new one", async () => {
  // The package's layout, inside it so that koffi and @tsrun/libcontainer resolve as they do for the real one.
  const dir = mkdtempSync(join(cli, ".launcher-test-"));
  let writing: Promise<{ code: number; stderr: string }> | undefined;
  try {
    mkdirSync(join(dir, "scripts"));
    mkdirSync(join(dir, "dist"));
    copyFileSync(join(cli, "scripts/make-bin.mjs"), join(dir, "scripts/make-bin.mjs"));
    symlinkSync(join(cli, "dist/bin.cjs"), join(dir, "dist/bin.cjs"));
    const script = pathToFileURL(join(dir, "scripts/make-bin.mjs")).href;
    // A fresh URL evaluates the module again: one node process rewrites the launcher as fast as it can.
    const rewrite = (ms: number) =>
      run(process.execPath, [
        "--input-type=module",
        "-e",
        `const end = Date.now() + ${ms}; let i = 0, failed = "";
         do { try { await import("${script}?" + i++); } catch (e) { failed ||= e.message; } } while (Date.now() < end);
         if (failed) { console.error(failed); process.exit(1); }`,
      ]);
    expect(await rewrite(0)).toEqual({ code: 0, stderr: "" });
    writing = rewrite(3000);
    let done = false;
    void writing.then(() => {
      done = true;
    });
    const results: { code: number; stderr: string }[] = [];
    const reader = async () => {
      while (!done)
        results.push(await run(join(dir, "bin/tsrun"), ["--root", join(dir, "state"), "state", "x"]));
    };
    await Promise.all([reader(), reader(), reader(), reader()]);
    expect(results.length).toBeGreaterThan(20);
    // Each one ran tsrun, which found no container; none exited 0 or failed to start.
    const wrong = results.filter(
      (r) => r.code !== 1 || !/^time=.* msg="container does not exist"\n$/.test(r.stderr),
    );
    expect(wrong).toEqual([]);
    // And the writer could always write (a launcher being run is no obstacle to its replacement).
    expect(await writing).toEqual({ code: 0, stderr: "" });
    // Nothing written aside is left.
    expect(readdirSync(join(dir, "bin")).sort()).toEqual(["package.json", "tsrun"]);
  } finally {
    await writing;
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
