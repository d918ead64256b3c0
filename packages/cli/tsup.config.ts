import { readFileSync, rmSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
const define = { __TSRUN_VERSION__: JSON.stringify(version) };

// Two builds write to dist/, so neither may clean it: it is cleaned here, once, before both.
rmSync("dist", { recursive: true, force: true });

export default defineConfig([
  {
    // The library entry: @tsrun/* stay imports, as for any consumer of the packages.
    entry: ["src/index.ts"],
    format: ["esm"],
    dts: { entry: "src/index.ts" },
    platform: "node",
    target: "node20",
    define,
    // koffi loads a per-platform native module at run time; bundling it breaks that lookup.
    external: ["koffi", /^@tsrun\//],
  },
  {
    // The executable: one self-contained CommonJS file with every @tsrun/* package inlined. Each command is a
    // fresh Node process: resolving and linking a module graph of four packages cost more than parsing one file,
    // and a classic script (unlike an ES module on Node 20) can be compiled with a code cache (see make-bin.mjs).
    entry: ["src/bin.ts"],
    format: ["cjs"],
    outExtension: () => ({ js: ".cjs" }),
    platform: "node",
    target: "node20",
    define,
    splitting: false,
    // import.meta.url (the executor's and koffi's lookups) from __filename.
    shims: true,
    noExternal: [/^@tsrun\//],
    external: ["koffi"],
    // Every command reads, hashes and deserializes this file first: whitespace and syntax minified, it is a quarter
    // smaller (about 1 ms per command); names stay, so errors and stacks read as before.
    esbuildOptions(options) {
      options.minifyWhitespace = true;
      options.minifySyntax = true;
    },
  },
]);
