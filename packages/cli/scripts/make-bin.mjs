// Writes bin/tsrun with this node's absolute path: containerd and podman call the runtime with no PATH, so
// `#!/usr/bin/env node` would not find node.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";

mkdirSync(new URL("../bin/", import.meta.url), { recursive: true });
const bin = new URL("../bin/tsrun", import.meta.url);
writeFileSync(bin, `#!${process.execPath}\nimport "../dist/bin.js";\n`);
chmodSync(bin, 0o755);
