// Each package, packed as it would be published, installs into an empty directory and works there: the
// libraries import, and the CLI's bin runs with no workspace around it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const pnpm = join(repo, "node_modules/.bin/pnpm");
const work = mkdtempSync(join(tmpdir(), "tsrun-pack-"));
const tarballs: Record<string, string> = {};

function pack(pkg: string): string {
  const out = join(work, "tarballs");
  execFileSync(pnpm, ["pack", "--pack-destination", out], {
    cwd: join(repo, "packages", pkg),
    stdio: "ignore",
  });
  const name = readdirSync(out).find((f) => f.startsWith(`tsrun-${pkg}-`));
  if (!name) throw new Error(`no tarball for ${pkg}`);
  return join(out, name);
}

/** npm install of the given tarballs into a fresh directory (koffi comes from the registry). */
function installAlone(names: string[]): string {
  const dir = mkdtempSync(join(work, "app-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  execFileSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", ...names.map((n) => tarballs[n]!)],
    {
      cwd: dir,
      stdio: "ignore",
      timeout: 180_000,
    },
  );
  return dir;
}

beforeAll(() => {
  for (const p of ["console", "fdpass", "libcontainer", "cli"]) tarballs[p] = pack(p);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("packed packages", () => {
  it("@tsrun/console installs alone and opens a pty", () => {
    const dir = installAlone(["console"]);
    const out = execFileSync(
      "node",
      [
        "--input-type=module",
        "-e",
        "const c = await import('@tsrun/console'); const p = c.newPty(); console.log(p.slavePath); p.master.close();",
      ],
      { cwd: dir },
    ).toString();
    expect(out).toMatch(/^\/dev\/pts\/\d+\n$/);
  }, 200_000);

  it("@tsrun/fdpass installs alone and passes an fd", () => {
    const dir = installAlone(["fdpass"]);
    const script = `
      const f = await import('@tsrun/fdpass');
      const [a, b] = f.socketpair();
      f.sendFds(a, [0], 'x');
      const r = await f.recvFds(b);
      console.log(r.fds.length, r.payload.toString());
    `;
    const out = execFileSync("node", ["--input-type=module", "-e", script], { cwd: dir }).toString();
    expect(out).toBe("1 x\n");
  }, 200_000);

  it("@tsrun/cli with its dependencies installs and runs tsrun", () => {
    const dir = installAlone(["console", "fdpass", "libcontainer", "cli"]);
    const bin = join(dir, "node_modules/.bin/tsrun");
    expect(execFileSync(bin, ["--version"], { env: {} }).toString()).toMatch(/^tsrun version \d+\.\d+\.\d+/);
    const features = JSON.parse(execFileSync(bin, ["features"], { env: {} }).toString());
    expect(features.ociVersionMin).toBe("1.0.0");
  }, 300_000);
});
