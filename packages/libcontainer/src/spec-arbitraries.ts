// fast-check generators of broken config.json documents, shared by the unit property tests and the integration
// runs of the real binary: mutations of a valid spec (fields dropped, retyped, made huge, negative, unicode, NUL,
// Object.prototype's names, deeply nested, random extra fields). Test support only: nothing in index.ts uses it.
import fc from "fast-check";

/** fast-check itself, for tests outside this package (it is this package's dev dependency, not the root's). */
export { fc };

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Path = (string | number)[];

/** Where a mutation can apply; nodes below depth 40 (inside an injected nesting) are not worth choosing. */
export function allPaths(v: Json, at: Path = [], out: Path[] = []): Path[] {
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
export const nasty: fc.Arbitrary<Json> = fc.oneof(
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

export type Mutation = { at: number; kind: "drop" | "set" | "add"; value: Json; key: string };

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("drop", "set", "set", "add"),
  value: nasty,
  key: fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 6 }),
    fc.constantFrom("__proto__", "constructor", "toString", "length", "a\nb"),
  ),
});

export function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

export function mutate(doc: Json, muts: Mutation[]): Json {
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
