import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

export default defineConfig({
  entry: ["src/index.ts", "src/bin.ts"],
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  platform: "node",
  target: "node20",
  clean: true,
  define: { __TSRUN_VERSION__: JSON.stringify(version) },
  // koffi loads a per-platform native module at run time; bundling it breaks that lookup.
  external: ["koffi", /^@tsrun\//],
});
