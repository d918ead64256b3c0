import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  dts: false,
  platform: "node",
  target: "node20",
  clean: true,
  sourcemap: false,
  // The workspace packages load koffi's per-platform native module at run time; keep them external.
  external: ["koffi", /^@tsrun\//],
});
