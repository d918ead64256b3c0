// Flag parsing with the rules of runc's CLI (urfave/cli over Go's flag package), since clients depend on them:
// `-x` and `--x` are the same flag, values come as `--x v` or `--x=v`, booleans take no value (or `=true`),
// and parsing stops at the first argument that is not a flag, or after `--`, so `exec ID sh -c ...` works.

export interface FlagDef {
  /** Long name first, then aliases: ["detach", "d"]. */
  names: string[];
  kind: "bool" | "string" | "number" | "list";
}

export type Flags = Record<string, string | boolean | number | string[] | undefined>;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function parseFlags(defs: FlagDef[], argv: string[]): { flags: Flags; args: string[] } {
  const byName = new Map<string, FlagDef>();
  for (const d of defs) for (const n of d.names) byName.set(n, d);
  const flags: Flags = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const def = byName.get(name);
    if (!def) throw new UsageError(`flag provided but not defined: -${name}`);
    const key = def.names[0]!;
    if (def.kind === "bool") {
      const v = eq >= 0 ? body.slice(eq + 1) : "true";
      if (!/^(true|false|1|0|t|f|TRUE|FALSE|True|False|T|F)$/.test(v))
        throw new UsageError(`invalid boolean value "${v}" for -${name}`);
      flags[key] = /^(true|1|t)$/i.test(v);
      continue;
    }
    let v: string;
    if (eq >= 0) v = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      v = argv[++i]!;
    }
    if (def.kind === "number") {
      if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid value "${v}" for flag -${name}: parse error`);
      flags[key] = Number(v);
    } else if (def.kind === "list") {
      flags[key] = [...((flags[key] as string[] | undefined) ?? []), v];
    } else flags[key] = v;
  }
  return { flags, args: argv.slice(i) };
}

/** runc's "exactly N argument(s)" check, with its words. */
export function requireArgs(command: string, args: string[], n: number, exact = true): void {
  if (exact ? args.length !== n : args.length < n)
    throw new UsageError(
      `tsrun: "${command}" requires ${exact ? "exactly" : "a minimum of"} ${n} argument(s)`,
    );
}
