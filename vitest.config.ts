import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

// Tests run against src/ through these aliases, so unit tests need no build.
const alias = {
  "@tsrun/console": src("console"),
  "@tsrun/fdpass": src("fdpass"),
  "@tsrun/libcontainer": src("libcontainer"),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "tools/*/src/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        // Real containers, real mounts, real ptys: needs root and runs one file at a time.
        resolve: { alias },
        test: {
          name: "root",
          include: ["tests/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
