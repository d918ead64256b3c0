// Writes bin/tsrun with this node's absolute path: containerd and podman call the runtime with no PATH, so
// `#!/usr/bin/env node` would not find node. Also puts tsrun-exec beside dist/bin.js, which inlines
// @tsrun/libcontainer and so looks for the executor next to itself.
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

mkdirSync(new URL("../bin/", import.meta.url), { recursive: true });
const bin = new URL("../bin/tsrun", import.meta.url);
writeFileSync(bin, `#!${process.execPath}\nimport "../dist/bin.js";\n`);
chmodSync(bin, 0o755);

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
let exec;
try {
  exec = join(
    dirname(createRequire(import.meta.url).resolve("@tsrun/libcontainer/package.json")),
    "dist/tsrun-exec",
  );
} catch {
  exec = undefined; // an install without libcontainer's files: dist/ already has its copy, or the env names one
}
if (exec && existsSync(exec) && existsSync(dist) && !existsSync(join(dist, "tsrun-exec"))) {
  copyFileSync(exec, join(dist, "tsrun-exec"));
  chmodSync(join(dist, "tsrun-exec"), 0o755);
}
