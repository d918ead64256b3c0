// linux.seccomp: shape and vocabulary, checked before anything exists. Names come from names.ts, so validation
// and compilation cannot disagree on what is known.
import { ConfigError } from "../errors.js";
import { ACTIONS, ARCHITECTURES, FLAGS, MAX_ARG_INDEX, OPERATORS } from "./names.js";

type Obj = Record<string, unknown>;

const FIELD = "linux.seccomp";
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;
/** uint64 in JSON: a non-negative integer (values above 2^53 lose precision in JSON.parse, as in any JS reader). */
const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER * 2 ** 11): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;

function fail(field: string, message: string): never {
  throw new ConfigError(field, message);
}

function strings(v: unknown, field: string): string[] {
  if (absent(v)) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(field, "must be an array of strings");
  return v as string[];
}

function known(table: Readonly<Record<string, unknown>>, v: unknown, field: string, kind: string): void {
  if (typeof v !== "string") fail(field, "must be a string");
  if (!Object.hasOwn(table, v as string)) fail(field, `unknown ${kind} ${JSON.stringify(v)}`);
}

function errnoRet(v: unknown, field: string): void {
  // The action's data field is 16 bits wide.
  if (!absent(v) && !isUint(v, 0xffff)) fail(field, "must be an integer from 0 to 65535");
}

/** Throws a ConfigError naming the field; accepts an absent or null linux.seccomp. */
export function validateSeccomp(v: unknown): void {
  if (absent(v)) return;
  if (!isObj(v)) fail(FIELD, "must be an object");
  const s = v as Obj;
  const noRules = absent(s.syscalls) || (Array.isArray(s.syscalls) && s.syscalls.length === 0);
  // runc reads a profile with neither a default action nor rules as "no seccomp"; so do we.
  if ((absent(s.defaultAction) || s.defaultAction === "") && noRules) return;
  if (absent(s.defaultAction) || s.defaultAction === "") fail(`${FIELD}.defaultAction`, "is required");
  known(ACTIONS, s.defaultAction, `${FIELD}.defaultAction`, "action");
  errnoRet(s.defaultErrnoRet, `${FIELD}.defaultErrnoRet`);
  // A listener as default action would notify on the write that hands the listener over: runc refuses it too.
  if (s.defaultAction === "SCMP_ACT_NOTIFY")
    fail(`${FIELD}.defaultAction`, "SCMP_ACT_NOTIFY cannot be the default action");
  strings(s.architectures, `${FIELD}.architectures`).forEach((a, i) => {
    known(ARCHITECTURES, a, `${FIELD}.architectures[${i}]`, "architecture");
  });
  strings(s.flags, `${FIELD}.flags`).forEach((f, i) => {
    known(FLAGS, f, `${FIELD}.flags[${i}]`, "flag");
  });
  for (const k of ["listenerPath", "listenerMetadata"]) {
    if (!absent(s[k]) && typeof s[k] !== "string") fail(`${FIELD}.${k}`, "must be a string");
  }
  if (absent(s.syscalls)) return;
  if (!Array.isArray(s.syscalls)) fail(`${FIELD}.syscalls`, "must be an array");
  let notify = false;
  (s.syscalls as unknown[]).forEach((x, i) => {
    const field = `${FIELD}.syscalls[${i}]`;
    if (!isObj(x)) fail(field, "must be an object");
    const names = strings(x.names, `${field}.names`);
    if (names.length === 0) fail(`${field}.names`, "must be a non-empty array of strings");
    if (names.some((n) => n === "")) fail(`${field}.names`, "must not contain an empty name");
    known(ACTIONS, x.action, `${field}.action`, "action");
    errnoRet(x.errnoRet, `${field}.errnoRet`);
    if (x.action === "SCMP_ACT_NOTIFY") {
      notify = true;
      // The listener is handed to tsrun with a write(2) once the filter is in place.
      if (names.includes("write"))
        fail(`${field}.names`, "SCMP_ACT_NOTIFY cannot be used for the write syscall");
    }
    if (absent(x.args)) return;
    if (!Array.isArray(x.args)) fail(`${field}.args`, "must be an array");
    (x.args as unknown[]).forEach((a, j) => {
      const af = `${field}.args[${j}]`;
      if (!isObj(a)) fail(af, "must be an object");
      if (!isUint(a.index, MAX_ARG_INDEX))
        fail(`${af}.index`, `must be an integer from 0 to ${MAX_ARG_INDEX}`);
      if (!isUint(a.value)) fail(`${af}.value`, "must be a non-negative integer");
      if (!absent(a.valueTwo) && !isUint(a.valueTwo))
        fail(`${af}.valueTwo`, "must be a non-negative integer");
      known(OPERATORS, a.op, `${af}.op`, "operator");
    });
  });
  if (notify && (typeof s.listenerPath !== "string" || s.listenerPath === ""))
    fail(`${FIELD}.listenerPath`, "is required when a rule uses SCMP_ACT_NOTIFY");
}
