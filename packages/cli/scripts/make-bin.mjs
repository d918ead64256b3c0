// Writes bin/tsrun with this node's absolute path: containerd and podman call the runtime with no PATH, so
// `#!/usr/bin/env node` would not find node. Also puts tsrun-exec beside dist/bin.cjs, which inlines
// @tsrun/libcontainer and so looks for the executor next to itself.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The launcher compiles dist/bin.cjs with V8's code cache: a Node 20 CLI spends a good part of each command
// compiling the functions it runs. The cache is per command (run, create, state, ...: each compiles a different
// set of functions), written after the first command of that kind finishes, beside the bundle (never in a shared
// directory: the bytecode runs as the caller, often root). V8 rejects a cache made by another Node or other
// flags, and the file name carries the bundle's size and mtime, so a rebuilt bundle never meets an old cache.
// koffi's own loader resolves three packages and reads node's ELF header to choose its prebuilt binary, about 5 ms
// of every command. Found once here (as it loads, the binary lands in require's cache), the launcher dlopens that
// file itself; if it has moved or is another version, the launcher falls back to koffi's loader.
let koffiNode = "";
let koffiVersion = "";
try {
  const req = createRequire(import.meta.url);
  koffiVersion = String(req("koffi").version);
  koffiNode = Object.keys(req.cache).find((f) => /[\\/]koffi\.node$/.test(f)) ?? "";
} catch {
  koffiNode = ""; // no koffi yet (a partial install): the launcher uses koffi's loader
}

const LAUNCHER = `#!${process.execPath}
// Written by scripts/make-bin.mjs: runs dist/bin.cjs through a per-command V8 code cache. CommonJS (see
// bin/package.json): an ES module entry would start Node's ESM loader for nothing.
const { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, write, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { join } = require("node:path");
const { Script } = require("node:vm");

const file = join(__dirname, "../dist/bin.cjs");
const dir = join(__dirname, "../dist/");
const VALUED = new Set(["--root", "--log", "--log-format", "--rootless", "--criu"]);
let command = "none";
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith("-")) {
    command = /^[a-z]{1,16}$/.test(a) ? a : "other";
    break;
  }
  if (VALUED.has(a)) i++;
}
// run, create and exec move a process into cgroups, and the kernel's first such move after a quiet spell waits for
// an RCU grace period (5-12 ms here). @tsrun/libcontainer's primeCgroupAttach starts that wait early by moving us
// into our own cgroup; done here, before the bundle is even read, the wait overlaps all of tsrun's own start.
// The threadpool starts at its first request, which may be the one below, so its size is set first (see
// src/bin.ts for why tsrun wants 8).
process.env.UV_THREADPOOL_SIZE ??= "8";
let cgroupPrimed = false;
if (command === "run" || command === "create" || command === "exec") {
  try {
    const own = readFileSync("/proc/self/cgroup", "utf8");
    const m = /^\\d+:(?:[^:\\n]*,)?pids(?:,[^:\\n]*)?:(.*)$/m.exec(own) ?? /^0::(.*)$/m.exec(own);
    if (m) {
      const base = /:pids/.test(m[0]) ? "/sys/fs/cgroup/pids" : "/sys/fs/cgroup";
      const fd = openSync(\`\${base}\${m[1]}/cgroup.procs\`, "w");
      write(fd, String(process.pid), () => closeSync(fd));
      cgroupPrimed = true;
    }
  } catch {}
}
const st = statSync(file);
const cacheFile = \`\${dir}cache/bin.\${command}.\${st.size}-\${Math.trunc(st.mtimeMs)}.v8\`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
const script = new Script(
  \`(function (exports, require, module, __filename, __dirname) {\${readFileSync(file, "utf8")}\\n})\`,
  { filename: file, cachedData },
);
const req = createRequire(file);
function loadKoffi() {
  try {
    const native = { exports: {} };
    process.dlopen(native, ${JSON.stringify(koffiNode)});
    if (native.exports.version !== ${JSON.stringify(koffiVersion)}) throw new Error("another koffi");
    return native.exports;
  } catch {
    return req("koffi");
  }
}
// The bundle requires node:fs, node:path, ... once per module it inlines (about 70 calls), and each call through
// Module._load costs tens of microseconds of cold code: each id is resolved once.
const loaded = new Map();
function bundleRequire(id) {
  let m = loaded.get(id);
  if (m === undefined) {
    m = id === "koffi" ? loadKoffi() : (process.getBuiltinModule?.(id) ?? req(id));
    loaded.set(id, m);
  }
  return m;
}
Object.assign(bundleRequire, req); // resolve, cache, ...
const mod = { exports: {} };
script.runInThisContext()(mod.exports, bundleRequire, mod, file, dir);
const save = cachedData === undefined || script.cachedDataRejected;
mod.exports.start(() => {
  if (!save) return;
  try {
    mkdirSync(\`\${dir}cache\`, { recursive: true, mode: 0o755 });
    const tmp = \`\${cacheFile}.\${process.pid}\`;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only install runs without a cache.
  }
}, { cgroupPrimed });
`;

/**
 * Every file here is written aside and renamed into place: a tsrun started during a build (tests, clients) runs the
 * old file or the new one. Truncated in place, an empty bin/tsrun would run as an empty shell script (execvp's
 * fallback for ENOEXEC) and exit 0 having done nothing, such as a `delete` that leaves its container behind.
 */
function replace(path, write, mode) {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    write(tmp);
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

mkdirSync(new URL("../bin/", import.meta.url), { recursive: true });
replace(fileURLToPath(new URL("../bin/tsrun", import.meta.url)), (p) => writeFileSync(p, LAUNCHER), 0o755);
// bin/tsrun has no extension, so this is what makes it CommonJS in a "type": "module" package.
replace(
  fileURLToPath(new URL("../bin/package.json", import.meta.url)),
  (p) => writeFileSync(p, `${JSON.stringify({ type: "commonjs" })}\n`),
  0o644,
);

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
  replace(join(dist, "tsrun-exec"), (p) => copyFileSync(exec, p), 0o755);
}
