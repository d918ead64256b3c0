import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXECUTOR_SEALS, sealedCopy, sealedExecutorPath, sealsOf } from "./sealed-executor.js";

const dir = mkdtempSync(join(tmpdir(), "tsrun-sealed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sealedCopy", () => {
  it("copies the file into a memfd sealed against writes, resizes and new seals", () => {
    const src = join(dir, "prog");
    const content = Buffer.alloc(300_000, 7);
    content.write("\x7fELF", 0, "latin1");
    writeFileSync(src, content, { mode: 0o755 });
    const fd = sealedCopy(src, "tsrun-test");
    try {
      expect(sealsOf(fd)).toBe(EXECUTOR_SEALS);
      expect(readFileSync(`/proc/self/fd/${fd}`).equals(content)).toBe(true);
      // What a container that reached /proc/<pid>/exe would try: open it for writing and write.
      let code = "";
      try {
        const w = openSync(`/proc/self/fd/${fd}`, "r+");
        try {
          writeSync(w, "pwned", 0);
        } finally {
          closeSync(w);
        }
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code ?? "";
      }
      expect(code).toBe("EPERM");
      expect(readFileSync(`/proc/self/fd/${fd}`).equals(content)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it("makes one copy per path and process, named by its fd", () => {
    const src = join(dir, "prog2");
    writeFileSync(src, "x");
    const p = sealedExecutorPath(src);
    expect(p).toMatch(/^\/proc\/self\/fd\/\d+$/);
    expect(sealedExecutorPath(src)).toBe(p);
  });
});
