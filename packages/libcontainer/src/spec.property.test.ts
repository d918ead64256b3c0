// Property tests of config.json handling: whatever the document (valid specs with fields dropped, retyped, made
// huge, negative, unicode or deeply nested, random extra fields, arbitrary JSON, arbitrary text), parseSpec,
// validateSpec, compilePlan and the plan's encoding either succeed or throw a ConfigError or ContainerError whose
// message is one line. Anything else (a TypeError from a field we did not check, a RangeError) would reach the
// user as a crash.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { compilePlan } from "./compile.js";
import { ContainerError } from "./container-error.js";
import { defaultSpec } from "./default-spec.js";
import { ConfigError } from "./errors.js";
import type { HostFacts } from "./host-facts.js";
import { encodePlan } from "./plan-codec.js";
import { containerdSpec, podmanSpec } from "./test-specs.js";
import { parseSpec, validateSpec } from "./validate.js";

const RUNS = Number(process.env.TSRUN_PROPERTY_RUNS) || 500;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

const bundle = mkdtempSync(join(tmpdir(), "tsrun-prop-"));
mkdirSync(join(bundle, "rootfs"));
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

const host: Partial<HostFacts> = {
  pathKind: (p) => (p.endsWith(".conf") || p.endsWith("/hosts") ? "file" : "dir"),
  readlink: () => null,
  kcore: false,
  cgroup: { version: 2 },
  lastCap: 40,
  rootlessEuid: false,
  egid: 0,
  selinux: false,
  apparmorAttrDir: false,
};

function seeds(): Json[] {
  const d = defaultSpec();
  d.root = { path: "rootfs" };
  d.hooks = { prestart: [{ path: "/bin/true", args: ["true"], env: ["A=b"], timeout: 5 }] };
  d.linux!.resources = {
    memory: { limit: 1 << 24 },
    pids: { limit: 10 },
    cpu: { shares: 512, quota: 1000, period: 100000, cpus: "0" },
  };
  d.process!.rlimits = [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }];
  d.linux!.namespaces!.push({ type: "user" });
  d.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  d.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  d.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
  d.linux!.rootfsPropagation = "rslave";
  d.mounts!.push({ destination: "/data", type: "bind", source: "/tmp", options: ["rbind", "rprivate", "ro"] });
  const c = containerdSpec();
  c.root = { path: "rootfs" };
  const p = podmanSpec();
  p.root = { path: "rootfs" };
  return [d, c, p].map((s) => JSON.parse(JSON.stringify(s)) as Json);
}
const SEEDS = seeds();

/** Where a mutation can apply; nodes below depth 40 (inside an injected nesting) are not worth choosing. */
function allPaths(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (at.length >= 40) return out;
  if (Array.isArray(v))
    v.forEach((x, i) => {
      allPaths(x, [...at, i], out);
    });
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) allPaths(x, [...at, k], out);
  return out;
}

function nested(depth: number, leaf: Json, asArray: boolean): Json {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

/** Values that break assumptions: sizes, signs, fractions, unicode, NUL, paths out of the rootfs, nesting. */
const nasty: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    -1,
    0,
    -0.5,
    1.5,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 64,
    -(2 ** 63),
    1e308,
    -1e308,
    "",
    "\u0000",
    "a\u0000b",
    "\n",
    "\u00e9\u{1f600}\u202e",
    "../../../etc",
    "/",
    "/proc/self/exe",
    "constructor",
    "toString",
    "__proto__",
    "x".repeat(70000),
    [],
    {},
    null,
    true,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  // Expanded by mutate(): a counterexample stays printable.
  fc.tuple(fc.integer({ min: 50, max: 3000 }), fc.boolean()).map(([d, a]) => ({ [NEST]: [d, a] }) as Json),
);

const NEST = "\u0001nest";

function expand(v: Json): Json {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && NEST in v) {
    const [d, a] = v[NEST] as [number, boolean];
    return nested(d, 1, a);
  }
  return clone(v);
}

type Mutation = { at: number; kind: "drop" | "set" | "add"; value: Json; key: string };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("drop", "set", "set", "add"),
  value: nasty,
  key: fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 6 }),
    fc.constantFrom("__proto__", "constructor", "toString", "length", "a\nb"),
  ),
});

function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

function mutate(doc: Json, muts: Mutation[]): Json {
  let root = clone(doc);
  for (const m of muts) {
    const paths = allPaths(root);
    const path = paths[m.at % paths.length]!;
    if (path.length === 0) {
      if (m.kind === "set") root = expand(m.value);
      continue;
    }
    let parent = root as Record<string | number, Json>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
    const last = path[path.length - 1]!;
    const target = parent[last] as Json;
    if (m.kind === "drop") {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (m.kind === "set") {
      parent[last] = expand(m.value);
    } else if (target !== null && typeof target === "object" && !Array.isArray(target)) {
      // JSON.parse makes an own "__proto__" key; so does defineProperty here.
      Object.defineProperty(target, m.key, {
        value: expand(m.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else if (Array.isArray(target)) {
      target.push(expand(m.value));
    }
  }
  return root;
}

/** The whole path config.json goes through in create, up to the bytes sent to the executor. */
function check(text: string): "ok" | "refused" {
  try {
    const spec = parseSpec(text, bundle);
    const plan = compilePlan(spec, {
      bundle,
      rootfs: join(bundle, "rootfs"),
      noPivot: false,
      consoleSocket: !!spec.process?.terminal,
      fifo: true,
      preserveFds: 0,
      host,
    });
    encodePlan(plan);
    return "ok";
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof ContainerError)) {
      throw new Error(`${(e as Error)?.name ?? typeof e} escaped: ${(e as Error)?.message ?? String(e)}`, {
        cause: e,
      });
    }
    if ([...e.message].some((c) => c.charCodeAt(0) < 0x20))
      throw new Error(`a control character in the message: ${JSON.stringify(e.message)}`);
    if (process.env.DEBUG_PROP) console.log(e.message.slice(0, 200));
    return "refused";
  }
}

describe("config.json on arbitrary input", { timeout: 300_000 }, () => {
  it("the seeds themselves are accepted", () => {
    for (const s of SEEDS) expect(check(JSON.stringify(s))).toBe("ok");
  });

  it("mutated valid specs: success or a one-line ConfigError, nothing else", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, muts) => {
          check(JSON.stringify(mutate(seed, muts)));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("arbitrary JSON documents and arbitrary text", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.constantFrom("", "{", "[", "\uFEFF{}", "null", "{} {}", '{"ociVersion": "1.0.2"'),
        ),
        (text) => {
          check(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("Object.prototype's names in every string and as a key of every object", () => {
    const names = ["constructor", "toString", "__proto__", "hasOwnProperty"];
    for (const seed of SEEDS) {
      for (const [i, path] of allPaths(seed).entries()) {
        let node: Json = seed;
        for (const k of path) node = (node as Record<string | number, Json>)[k] as Json;
        for (const name of names) {
          if (typeof node === "string")
            check(JSON.stringify(mutate(seed, [{ at: i, kind: "set", value: name, key: "" }])));
          else if (node !== null && typeof node === "object" && !Array.isArray(node))
            for (const value of [1, "x", [], {}, true])
              check(JSON.stringify(mutate(seed, [{ at: i, kind: "add", value, key: name }])));
        }
      }
    }
  });

  it("validateSpec alone on any value", () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        try {
          validateSpec(v);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });

  it("very deep nesting is refused, not a stack overflow", () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    expect(check(deep)).toBe("refused");
    const seed = JSON.stringify(SEEDS[0]);
    const inAnnotations = seed.replace(
      '"ociVersion"',
      `"annotations": {"a": ${"[".repeat(100_000)}${"]".repeat(100_000)}}, "ociVersion"`,
    );
    expect(check(inAnnotations)).toBe("refused");
  });
});
