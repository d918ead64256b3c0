import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  platform: "node",
  target: "node20",
  clean: true,
  sourcemap: false,
  // koffi loads a per-platform native module at run time; bundling it breaks that lookup.
  external: ["koffi", /^@tsrun\//],
});
