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
import { encodePlan } from "./plan-codec.js";
import { allPaths, type Json, mutate, mutation } from "./spec-arbitraries.js";
import { containerdSpec, podmanSpec, testHost } from "./test-specs.js";
import { parseSpec, validateSpec } from "./validate.js";

const RUNS = Number(process.env.TSRUN_PROPERTY_RUNS) || 500;

const bundle = mkdtempSync(join(tmpdir(), "tsrun-prop-"));
mkdirSync(join(bundle, "rootfs"));
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

const host = testHost({ pathKind: (p) => (p.endsWith(".conf") || p.endsWith("/hosts") ? "file" : "dir") });

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
  d.mounts!.push({
    destination: "/data",
    type: "bind",
    source: "/tmp",
    options: ["rbind", "rprivate", "ro"],
  });
  const c = containerdSpec();
  c.root = { path: "rootfs" };
  const p = podmanSpec();
  p.root = { path: "rootfs" };
  return [d, c, p].map((s) => JSON.parse(JSON.stringify(s)) as Json);
}
const SEEDS = seeds();

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
