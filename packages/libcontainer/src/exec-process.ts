// The process `tsrun exec` starts, as runc's exec.go getProcess builds it: either a whole OCI process from
// --process FILE, or the container's own config.json process with the command line's changes on top.
import { readFileSync } from "node:fs";
import { isCapability } from "./capabilities.js";
import { ContainerError } from "./container-error.js";
import { ConfigError } from "./errors.js";
import { jsonErrorMessage } from "./json-error.js";
import type { Process } from "./spec.js";
import { validateProcess } from "./validate.js";

/** What the exec command line changes in the config's process (runc's flags of the same names). */
export interface ExecOverrides {
  /** The command and its arguments (required without --process). */
  args: string[];
  /** -t: the process gets a new terminal; without it terminal is false whatever config.json says. */
  tty?: boolean;
  /** -e K=V, appended to the config's env (a later value of the same name wins). */
  env?: string[];
  cwd?: string;
  /** -u UID[:GID], numeric as in runc. */
  user?: string;
  additionalGids?: number[];
  /** -c CAP: added to the bounding, effective and permitted sets (and ambient when inheritable is set). */
  caps?: string[];
  /** --no-new-privs, when given. */
  noNewPrivs?: boolean;
  /** --apparmor PROFILE and --process-label LABEL. */
  apparmor?: string;
  processLabel?: string;
}

/**
 * Reads and validates a process.json. Read once, right away: containerd and conmon delete the file as soon as
 * tsrun exits, and a second read could see another file.
 */
export function readProcessFile(path: string): Process {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ContainerError(
      `open ${path}: ${code === "ENOENT" ? "no such file or directory" : (code ?? String(e))}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ContainerError(`${path}: ${jsonErrorMessage(text, (e as Error).message)}`);
  }
  checkProcess(doc, path);
  return doc as Process;
}

/** validateProcess, with errors naming the process file instead of config.json. */
function checkProcess(doc: unknown, source: string): void {
  try {
    validateProcess(doc);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const field = e.field.replace(/^process\.?/, "");
    const rest = e.message.replace(/^config\.json: (process[^:]*: )?/, "");
    throw new ContainerError(field ? `${source}: ${field}: ${rest}` : `${source}: ${rest}`);
  }
}

/** Go's strconv.Atoi as runc uses it for -u: decimal, optionally signed, within 32 bits here. */
function parseId(text: string, what: "uid" | "gid"): number {
  if (!/^[+-]?\d+$/.test(text))
    throw new ContainerError(
      `parsing ${text} as int for ${what} failed: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`,
    );
  const n = Number(text);
  if (n < 0 || n > 2 ** 32 - 1) throw new ContainerError(`${what} ${text} is out of range`);
  return n;
}

/** The config's process with the command line's changes, as runc's exec builds it. */
export function execProcessFromConfig(base: Process | undefined, o: ExecOverrides): Process {
  if (!base) throw new ContainerError("config.json: process is required to exec into a container");
  if (o.args.length === 0) throw new ContainerError("process args cannot be empty");
  const p: Process = structuredClone(base);
  p.args = [...o.args];
  if (o.cwd) p.cwd = o.cwd;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  for (const cap of o.caps ?? []) {
    if (!isCapability(cap)) throw new ContainerError(`unknown capability ${JSON.stringify(cap)}`);
    p.capabilities ??= {};
    const c = p.capabilities;
    c.bounding = [...(c.bounding ?? []), cap];
    c.effective = [...(c.effective ?? []), cap];
    c.permitted = [...(c.permitted ?? []), cap];
    // Ambient needs inheritable, which --cap does not add: only when the config already has some.
    if (c.inheritable) c.ambient = [...(c.ambient ?? []), cap];
  }
  p.env = mergeEnv(p.env ?? [], o.env ?? []);
  p.terminal = !!o.tty;
  // The exec's terminal is sized from the caller's (foreground) or by the console-socket peer, not config.json.
  delete p.consoleSize;
  if (o.noNewPrivs !== undefined) p.noNewPrivileges = o.noNewPrivs;
  if (o.user) {
    const [uid, gid] = splitOnce(o.user, ":");
    const user = { ...p.user };
    if (gid !== undefined) user.gid = parseId(gid, "gid");
    user.uid = parseId(uid, "uid");
    p.user = user;
  }
  for (const g of o.additionalGids ?? []) {
    if (!Number.isInteger(g) || g < 0)
      throw new ContainerError(`additional-gids must be a positive number ${g}`);
    p.user.additionalGids = [...(p.user.additionalGids ?? []), g];
  }
  checkProcess(p, "exec process");
  return p;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}

/**
 * runc sets each variable in turn (os.Setenv), so a name given again keeps its first place and takes the last
 * value. Entries without '=' are refused by validation.
 */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const order: string[] = [];
  const values = new Map<string, string>();
  for (const kv of [...base, ...extra]) {
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (!values.has(key)) order.push(key);
    values.set(key, kv);
  }
  return order.map((k) => values.get(k) as string);
}
