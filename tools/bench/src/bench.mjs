#!/usr/bin/env node
// tsrun against runc and crun, side by side on this machine: start latency, relay throughput and memory.
// A tool, not a test: it prints medians, p90s and ratios vs runc, and writes them to docs/benchmarks.md.
//
//   node tools/bench/src/bench.mjs [--quick] [--out FILE] [--json FILE] [--no-write]
//
// TSRUN=/path/to/tsrun benches another build of tsrun (default: this checkout's packages/cli/bin/tsrun).
// --quick: N=3 and small sizes (for the smoke test); it writes docs/benchmarks.md only when --out is given.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = args.includes("--quick");
const N_START = QUICK ? 3 : 30;
const N_FLOW = QUICK ? 3 : 5;
const PIPE_BYTES = QUICK ? 8 << 20 : 512 << 20;
const TTY_BYTES = QUICK ? 4 << 20 : 64 << 20;
const OUT =
  opt("--out") ?? (QUICK || args.includes("--no-write") ? undefined : join(REPO, "docs/benchmarks.md"));
const JSON_OUT = opt("--json");

// Every runtime gets the same clean environment: NODE_EXTRA_CA_CERTS alone adds ~80 ms to a Node start here.
const ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" };
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const work = mkdtempSync(join(tmpdir(), "tsrun-bench-"));
let seq = 0;
const newId = () => `bench-${process.pid}-${seq++}`;

function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

// ---- setup: one busybox rootfs, one bundle per program ----

const rootfs = join(work, "rootfs");
execFileSync("bash", [join(REPO, "tools/rootfs/make-rootfs.sh"), rootfs], {
  stdio: ["ignore", "ignore", "inherit"],
});
// runc's default spec, written to work/config.json, is the template of every bundle.
execFileSync("runc", ["spec"], { cwd: work, env: ENV });

function bundle(name, argv, { terminal = false, cgroups = true } = {}) {
  const spec = JSON.parse(readFileSync(join(work, "config.json"), "utf8"));
  spec.root = { path: rootfs, readonly: true };
  spec.process.args = argv;
  spec.process.terminal = terminal;
  if (!cgroups) {
    // crun refuses a hybrid cgroup host outright; a spec with no cgroup at all is its best chance.
    delete spec.linux.resources;
    delete spec.linux.cgroupsPath;
    spec.mounts = spec.mounts.filter((m) => m.type !== "cgroup");
  }
  const dir = join(work, `bundle-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec, null, 2));
  return dir;
}

// ---- runtimes ----

const RUNTIMES = [
  { name: "tsrun", bin: process.env.TSRUN ?? join(REPO, "packages/cli/bin/tsrun"), pre: [], cgroups: true },
  { name: "runc", bin: "runc", pre: [], cgroups: true },
  { name: "crun", bin: "crun", pre: ["--cgroup-manager=disabled"], cgroups: false },
];
for (const rt of RUNTIMES) {
  rt.root = join(work, `state-${rt.name}`);
  rt.argv = (...a) => [...rt.pre, "--root", rt.root, ...a];
  rt.bundles = {};
}

function version(bin, argv) {
  try {
    return execFileSync(bin, argv, { env: ENV, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .split("\n")[0]
      .trim();
  } catch {
    return "not installed";
  }
}

const PROGRAMS = {
  true: { argv: ["/bin/true"] },
  pipe: { argv: ["head", "-c", String(PIPE_BYTES), "/dev/zero"] },
  tty: { argv: ["head", "-c", String(TTY_BYTES), "/dev/zero"], terminal: true },
};

for (const rt of RUNTIMES) {
  for (const [name, p] of Object.entries(PROGRAMS))
    rt.bundles[name] = bundle(`${rt.name}-${name}`, p.argv, { terminal: p.terminal, cgroups: rt.cgroups });
  // A runtime that cannot run a container here is reported as not run, with its reason.
  const r = spawnSync(rt.bin, rt.argv("run", "-b", rt.bundles.true, newId()), {
    env: ENV,
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (r.error || r.status !== 0) {
    rt.skip = (r.error?.message ?? r.stderr.toString().trim().split("\n").pop()) || `exit ${r.status}`;
    log(`${rt.name} not run: ${rt.skip}`);
  }
}
const active = RUNTIMES.filter((rt) => !rt.skip);

// ---- measurements ----

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

// stderr goes to a file, not a pipe: a detached container inherits it, and a pipe would stay open as long as it runs.
const errPath = join(work, "stderr");
function mustRun(rt, argv) {
  const err = openSync(errPath, "w");
  let r;
  try {
    r = spawnSync(rt.bin, rt.argv(...argv), { env: ENV, stdio: ["ignore", "ignore", err] });
  } finally {
    closeSync(err);
  }
  if (r.error || r.status !== 0)
    throw new Error(
      `${rt.name} ${argv.join(" ")}: ${r.error?.message ?? readFileSync(errPath, "utf8").trim()}`,
    );
}

function startRun(rt) {
  const t0 = process.hrtime.bigint();
  mustRun(rt, ["run", "-b", rt.bundles.true, newId()]);
  return ms(t0);
}

function startDetached(rt) {
  const id = newId();
  const t0 = process.hrtime.bigint();
  mustRun(rt, ["create", "-b", rt.bundles.true, id]);
  mustRun(rt, ["start", id]);
  mustRun(rt, ["delete", "-f", id]);
  return ms(t0);
}

/** VmHWM/VmRSS of a live pid in KiB, or undefined once it is gone. */
function procKib(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Pass-through foreground: the runtime's stdout is a pipe that dd drains; returns MB/s and the runtime's peak RSS. */
function pipeFlow(rt) {
  return new Promise((resolve, reject) => {
    const dd = spawn("dd", ["of=/dev/null", "bs=1M"], { stdio: ["pipe", "ignore", "pipe"], env: ENV });
    let ddErr = "";
    dd.stderr.on("data", (c) => {
      ddErr += c;
    });
    const t0 = process.hrtime.bigint();
    const child = spawn(rt.bin, rt.argv("run", "-b", rt.bundles.pipe, newId()), {
      stdio: ["ignore", dd.stdin, "inherit"],
      env: ENV,
    });
    dd.stdin.destroy(); // the runtime holds the only write end now
    let hwm = 0;
    const sample = () => {
      const v = procKib(child.pid, "VmHWM");
      if (v !== undefined && v > hwm) hwm = v;
    };
    const timer = setInterval(sample, 5);
    const exited = new Promise((r) => child.on("exit", (code) => r(code)));
    const drained = new Promise((r) => dd.on("close", () => r(ms(t0))));
    Promise.all([exited, drained]).then(([code, t]) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${rt.name} run (pipe): exit ${code}`));
      const got = Number(ddErr.match(/^(\d+) bytes/m)?.[1] ?? -1);
      if (got !== PIPE_BYTES) return reject(new Error(`${rt.name} pipe: ${got} of ${PIPE_BYTES} bytes`));
      resolve({ mbs: PIPE_BYTES / 1e6 / (t / 1e3), rssKib: hwm });
    });
  });
}

// The runtime inside a fresh pty (python's pty.fork); python drains the master until EIO and reports bytes and time.
const PTY_DRIVER = `
import os, pty, sys, time, fcntl, termios, struct
t0 = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[1], sys.argv[1:], dict(os.environ))
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
n = 0
while True:
    try:
        b = os.read(fd, 1 << 16)
    except OSError:
        break
    if not b:
        break
    n += len(b)
_, st = os.waitpid(pid, 0)
print(n, time.monotonic() - t0, os.waitstatus_to_exitcode(st))
`;

function ttyFlow(rt) {
  const r = spawnSync(PYTHON, ["-c", PTY_DRIVER, rt.bin, ...rt.argv("run", "-b", rt.bundles.tty, newId())], {
    env: { ...ENV, TERM: "xterm" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [bytes, secs, code] = r.stdout.toString().trim().split(/\s+/).map(Number);
  if (code !== 0) throw new Error(`${rt.name} run (tty): exit ${code}`);
  // A terminal may add bytes (ONLCR on \\n), never lose them; /dev/zero has no \\n, so the count is exact.
  if (bytes !== TTY_BYTES) throw new Error(`${rt.name} tty: ${bytes} of ${TTY_BYTES} bytes`);
  return TTY_BYTES / 1e6 / secs;
}

function createdInitRss(rt) {
  const id = newId();
  const pidFile = join(work, `${id}.pid`);
  mustRun(rt, ["create", "-b", rt.bundles.true, "--pid-file", pidFile, id]);
  try {
    const pid = Number(readFileSync(pidFile, "utf8"));
    return procKib(pid, "VmRSS");
  } finally {
    mustRun(rt, ["delete", "-f", id]);
  }
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return {
    median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2,
    p90: q(0.9),
  };
}

const ROWS = [
  { key: "run", label: "`run /bin/true`, pass-through, stdin </dev/null", unit: "ms", better: "lower" },
  {
    key: "detached",
    label: "`create` + `start` + `delete -f` of `true` (detached)",
    unit: "ms",
    better: "lower",
  },
  {
    key: "pipe",
    label: `${PIPE_BYTES >> 20} MiB pass-through foreground (stdout: pipe drained by dd)`,
    unit: "MB/s",
    better: "higher",
  },
  {
    key: "tty",
    label: `${TTY_BYTES >> 20} MiB new-terminal foreground (runtime in a pty)`,
    unit: "MB/s",
    better: "higher",
  },
  {
    key: "rss",
    label: "peak RSS (VmHWM) of the foreground runtime during the pipe run",
    unit: "MiB",
    better: "lower",
  },
  {
    key: "initRss",
    label: "RSS (VmRSS) of a created container's waiting init",
    unit: "MiB",
    better: "lower",
  },
];

const samples = Object.fromEntries(
  active.map((rt) => [rt.name, Object.fromEntries(ROWS.map((r) => [r.key, []]))]),
);

// Fixed costs, sampled between the `run` rounds: what any Node program pays to start and exit (the same node as
// tsrun's launcher), and each runtime's cheapest command.
const FLOOR = [
  { key: "node", label: "`node` running an empty script", argv: [process.execPath, "-e", ""] },
  { key: "tsrunVersion", label: "`tsrun --version`", argv: [RUNTIMES[0].bin, "--version"] },
  { key: "runcVersion", label: "`runc --version`", argv: ["runc", "--version"] },
];
const floor = Object.fromEntries(FLOOR.map((f) => [f.key, []]));
function sampleFloor() {
  for (const f of FLOOR) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(f.argv[0], f.argv.slice(1), { env: ENV, stdio: "ignore" });
    if (r.status === 0) floor[f.key].push(ms(t0));
  }
}

async function main() {
  log(`work dir ${work}; runtimes: ${active.map((r) => r.name).join(", ")}`);
  for (const rt of active) startRun(rt); // warm the page cache
  for (let i = 0; i < N_START; i++) {
    for (const rt of active) samples[rt.name].run.push(startRun(rt));
    sampleFloor();
  }
  log("run done");
  for (let i = 0; i < N_START; i++)
    for (const rt of active) samples[rt.name].detached.push(startDetached(rt));
  log("create/start/delete done");
  for (let i = 0; i < N_FLOW; i++)
    for (const rt of active) {
      const { mbs, rssKib } = await pipeFlow(rt);
      samples[rt.name].pipe.push(mbs);
      samples[rt.name].rss.push(rssKib / 1024);
    }
  log("pipe done");
  for (let i = 0; i < N_FLOW; i++) for (const rt of active) samples[rt.name].tty.push(ttyFlow(rt));
  log("tty done");
  for (let i = 0; i < N_FLOW; i++)
    for (const rt of active) samples[rt.name].initRss.push((createdInitRss(rt) ?? Number.NaN) / 1024);
  log("init rss done");
}

try {
  await main();
} finally {
  for (const rt of RUNTIMES)
    spawnSync(
      "bash",
      [
        "-c",
        `for c in $(ls ${rt.root} 2>/dev/null); do ${rt.bin} ${rt.pre.join(" ")} --root ${rt.root} delete -f $c; done`,
      ],
      { env: ENV, stdio: "ignore" },
    );
  rmSync(work, { recursive: true, force: true });
}

// ---- report ----

const fmt = (x, unit) => (unit === "ms" ? x.toFixed(1) : unit === "MiB" ? x.toFixed(2) : x.toFixed(0));
const result = { quick: QUICK, rows: [] };
for (const row of ROWS) {
  const cells = {};
  for (const rt of active) cells[rt.name] = stats(samples[rt.name][row.key]);
  result.rows.push({ ...row, cells });
}

const runc = active.find((r) => r.name === "runc");
const header = [
  "metric",
  ...RUNTIMES.map((r) => `${r.name} median (p90)`),
  ...RUNTIMES.filter((r) => r.name !== "runc").map((r) => `${r.name} / runc`),
];
const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
for (const row of result.rows) {
  const cell = (rt) =>
    rt.skip
      ? "not run"
      : `${fmt(row.cells[rt.name].median, row.unit)} (${fmt(row.cells[rt.name].p90, row.unit)})`;
  const ratio = (rt) =>
    rt.skip || !runc ? "–" : `${(row.cells[rt.name].median / row.cells.runc.median).toFixed(2)}×`;
  lines.push(
    `| ${row.label} [${row.unit}] | ${RUNTIMES.map(cell).join(" | ")} | ${RUNTIMES.filter(
      (r) => r.name !== "runc",
    )
      .map(ratio)
      .join(" | ")} |`,
  );
}
const table = lines.join("\n");
process.stdout.write(`${table}\n`);

// The floor: how much of runc's whole `run` a Node process spends just starting and exiting.
const runcRun = runc ? result.rows.find((r) => r.key === "run").cells.runc.median : undefined;
result.floor = Object.fromEntries(
  FLOOR.map((f) => [f.key, floor[f.key].length ? stats(floor[f.key]) : undefined]),
);
const floorLines = FLOOR.map((f) => {
  const st = result.floor[f.key];
  if (!st) return `- ${f.label}: not run`;
  const of = runcRun ? ` = ${(st.median / runcRun).toFixed(2)}× runc's \`run /bin/true\`` : "";
  return `- ${f.label}: ${fmt(st.median, "ms")} ms median (p90 ${fmt(st.p90, "ms")})${of}`;
});
process.stdout.write(`${floorLines.join("\n")}\n`);

const git = (() => {
  try {
    return execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]).toString().trim();
  } catch {
    return "unknown";
  }
})();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, Linux ${execFileSync("uname", ["-r"]).toString().trim()}, ${readFileSync("/etc/debian_version", "utf8").trim() ? `Debian ${readFileSync("/etc/debian_version", "utf8").trim()}` : ""}`;
const versions = [
  `tsrun ${git} (Node ${process.version}), ${RUNTIMES[0].bin}`,
  version("runc", ["--version"]),
  version("crun", ["--version"]),
];
result.machine = machine;
result.versions = versions;
result.skipped = Object.fromEntries(RUNTIMES.filter((r) => r.skip).map((r) => [r.name, r.skip]));
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(result, null, 2));

if (OUT) {
  const skipped = RUNTIMES.filter((r) => r.skip)
    .map((r) => `- **${r.name} not run**: \`${r.bin} ${r.pre.join(" ")} run\` fails here with “${r.skip}”.`)
    .join("\n");
  const md = `# Benchmarks

Produced by \`node tools/bench/src/bench.mjs\` (${QUICK ? "quick mode" : "full mode"}) on ${new Date().toISOString().slice(0, 10)}.
Ratios are tsrun's (or crun's) median over runc's: below 1 is better for times and memory, above 1 for MB/s.

${table}

## Fixed costs (same run, interleaved with the \`run\` rounds)
${floorLines.join("\n")}

## Where tsrun's start-up time goes
Every tsrun command is one Node process, by design (Node is multi-threaded, so a C executor enters the
container's namespaces, and Node never runs inside one). Node starting and exiting, with nothing to do, already
takes about as long as runc's whole \`run /bin/true\` (the first line above): at 1.5× runc, everything else,
which includes the same kernel work runc does (namespaces, mounts, pivot_root, a dozen cgroup directories made
and removed, the cgroup-attach RCU grace period, exec and exit), would have to fit in about half of runc's time.
Measured inside tsrun on this host (performance.now() marks, a quiet machine, \`run /bin/true\`, 2026-11-29):
Node's own start until the launcher's first line ≈ 19 ms, and its exit ≈ 5 ms (the kernel freeing a Node
process's memory costs about 0.65 ms per MiB here); the launcher and the code-cached bundle ≈ 6.5 ms; spec,
validation and plan ≈ 3 ms; then the container (executor spawn and clone, cgroups, mounts, start, the program,
delete) ≈ 12 ms, about a third of it JavaScript. What tsrun does about it: the executor is
started with posix_spawn (no node:child_process, no fork of Node's address space), the cgroups are made while the
executor starts, the launcher starts the cgroup-attach grace period before the bundle is even read, the bundle is
minified and runs from a V8 code cache, and each command loads only koffi's native module, not its loader.

## Machine and versions
- ${machine}
- ${versions.join("\n- ")}
${skipped ? `${skipped}\n` : ""}
## Method
- One run of the bench, the runtimes side by side on the same busybox bundle (tools/rootfs/make-rootfs.sh, read-only
  root, \`runc spec\` defaults), each with its own \`--root\` state dir, all started with the same clean environment
  (no NODE_EXTRA_CA_CERTS).
- Start latency: N=${N_START} per runtime, interleaved (tsrun, runc, … in turn), wall time of the runtime's command(s)
  as seen by the bench (spawnSync); stdin and stdout are /dev/null, stderr a file. \`run\` is pass-through
  foreground; the detached row is three commands: \`create\`, \`start\`, \`delete -f\`.
- Pass-through throughput: \`head -c ${PIPE_BYTES} /dev/zero\` in the container, \`run\` in the foreground with stdin
  </dev/null and stdout a pipe drained by \`dd of=/dev/null bs=1M\`; MB/s is bytes / wall time of the whole \`run\`
  (start included), N=${N_FLOW}; dd's byte count is checked.
- New-terminal throughput: \`process.terminal: true\`, \`head -c ${TTY_BYTES} /dev/zero\`; the runtime runs on the slave
  of a fresh pty (python's pty.fork), which drains the master until EIO and counts the bytes; N=${N_FLOW}.
- Peak RSS: VmHWM of the runtime's own process (not its children), read from /proc every 5 ms during the pipe run.
- Init RSS: \`create --pid-file\`, then VmRSS of that pid, which is waiting on exec.fifo; N=${N_FLOW}.
- The host may be shared (other test suites running): absolute times and MB/s move with its load, so compare the
  ratios of one run, whose samples are interleaved, rather than numbers from different runs.
`;
  writeFileSync(OUT, md);
  log(`wrote ${OUT}`);
}
