// The plan: what the native executor (native/tsrun-exec) runs, as plain data. Opcodes and argument lists mirror
// native/protocol.h one to one; plan-codec.ts turns a Plan into bytes. Builders here keep argument order in one
// place, so the compiler never writes raw opcode arrays.

export enum OpCode {
  Setns = 1,
  OomScoreAdj = 2,
  Clone = 3,
  Setgroups = 4,
  Uidmap = 5,
  Gidmap = 6,
  InitBegin = 7,

  Sync = 20,
  Pdeathsig = 21,
  Setsid = 22,
  SetidRoot = 23,
  Mount = 24,
  MkdirAll = 25,
  Mknod = 26,
  Symlink = 27,
  Touch = 28,
  Chdir = 29,
  PivotRoot = 30,
  MoveRoot = 31,
  WriteFile = 32,
  Sethostname = 33,
  Setdomainname = 34,
  MaskPath = 35,
  ReadonlyPath = 36,
  LoopbackUp = 37,
  Console = 38,
  Rlimit = 39,
  Umask = 40,
  NoNewPrivs = 41,
  CapBounding = 42,
  Setuser = 43,
  Caps = 44,
  FifoWait = 45,
  CloseFrom = 46,
  Exec = 47,
  StdioBlocking = 48,
  Hook = 49,
  Lookup = 50,
  Seccomp = 51,
  Root = 52,
  MountCopyup = 53,
  Unshare = 54,
  SessionKeyring = 55,
}

/** A string goes as its bytes (no NUL); a bigint as an 8-byte little-endian integer; a Buffer as is. */
export type Arg = string | bigint | Buffer;

export interface Op {
  code: OpCode;
  args: Arg[];
}

export type Plan = Op[];

const i = (n: number | bigint): bigint => BigInt(n);
const list = (xs: string[]): Arg[] => [i(xs.length), ...xs];

/** One builder per opcode; argument order is native/protocol.h's. */
export const op = {
  setns: (path: string, nstype: number): Op => ({ code: OpCode.Setns, args: [path, i(nstype)] }),
  oomScoreAdj: (value: number): Op => ({ code: OpCode.OomScoreAdj, args: [String(value)] }),
  clone: (flags: number | bigint): Op => ({ code: OpCode.Clone, args: [i(flags)] }),
  setgroups: (value: "deny" | "allow"): Op => ({ code: OpCode.Setgroups, args: [value] }),
  uidmap: (text: string): Op => ({ code: OpCode.Uidmap, args: [text] }),
  gidmap: (text: string): Op => ({ code: OpCode.Gidmap, args: [text] }),
  initBegin: (): Op => ({ code: OpCode.InitBegin, args: [] }),

  sync: (label: string): Op => ({ code: OpCode.Sync, args: [label] }),
  pdeathsig: (signal: number): Op => ({ code: OpCode.Pdeathsig, args: [i(signal)] }),
  setsid: (): Op => ({ code: OpCode.Setsid, args: [] }),
  setidRoot: (): Op => ({ code: OpCode.SetidRoot, args: [] }),
  mount: (source: string, target: string, fstype: string, flags: number | bigint, data: string): Op => ({
    code: OpCode.Mount,
    args: [source, target, fstype, i(flags), data],
  }),
  mkdirAll: (path: string, mode: number): Op => ({ code: OpCode.MkdirAll, args: [path, i(mode)] }),
  mknod: (path: string, mode: number, dev: number | bigint, uid: number, gid: number): Op => ({
    code: OpCode.Mknod,
    args: [path, i(mode), i(dev), i(uid), i(gid)],
  }),
  symlink: (target: string, linkpath: string): Op => ({ code: OpCode.Symlink, args: [target, linkpath] }),
  touch: (path: string, mode: number): Op => ({ code: OpCode.Touch, args: [path, i(mode)] }),
  chdir: (path: string): Op => ({ code: OpCode.Chdir, args: [path] }),
  pivotRoot: (path: string): Op => ({ code: OpCode.PivotRoot, args: [path] }),
  moveRoot: (path: string): Op => ({ code: OpCode.MoveRoot, args: [path] }),
  writeFile: (path: string, contents: string): Op => ({ code: OpCode.WriteFile, args: [path, contents] }),
  sethostname: (name: string): Op => ({ code: OpCode.Sethostname, args: [name] }),
  setdomainname: (name: string): Op => ({ code: OpCode.Setdomainname, args: [name] }),
  /** data: mount data for the tmpfs that masks a directory (an SELinux context), omitted when empty. */
  maskPath: (path: string, data = ""): Op => ({ code: OpCode.MaskPath, args: data ? [path, data] : [path] }),
  readonlyPath: (path: string): Op => ({ code: OpCode.ReadonlyPath, args: [path] }),
  loopbackUp: (): Op => ({ code: OpCode.LoopbackUp, args: [] }),
  console: (ptmx: string, rows: number, cols: number, bindConsole: boolean): Op => ({
    code: OpCode.Console,
    args: [ptmx, i(rows), i(cols), i(bindConsole ? 1 : 0)],
  }),
  /** soft and hard as bigint; -1n means RLIM_INFINITY. */
  rlimit: (resource: number, soft: bigint, hard: bigint): Op => ({
    code: OpCode.Rlimit,
    args: [i(resource), soft, hard],
  }),
  umask: (mask: number): Op => ({ code: OpCode.Umask, args: [i(mask)] }),
  noNewPrivs: (): Op => ({ code: OpCode.NoNewPrivs, args: [] }),
  capBounding: (keep: bigint): Op => ({ code: OpCode.CapBounding, args: [keep] }),
  setuser: (uid: number, gid: number, additionalGids: number[]): Op => ({
    code: OpCode.Setuser,
    args: [i(uid), i(gid), i(additionalGids.length), ...additionalGids.map(i)],
  }),
  caps: (effective: bigint, permitted: bigint, inheritable: bigint, ambient: bigint): Op => ({
    code: OpCode.Caps,
    args: [effective, permitted, inheritable, ambient],
  }),
  fifoWait: (): Op => ({ code: OpCode.FifoWait, args: [] }),
  closeFrom: (first: number): Op => ({ code: OpCode.CloseFrom, args: [i(first)] }),
  exec: (path: string, argv: string[], env: string[]): Op => ({
    code: OpCode.Exec,
    args: [path, ...list(argv), ...list(env)],
  }),
  lookup: (path: string, env: string[]): Op => ({ code: OpCode.Lookup, args: [path, ...list(env)] }),
  stdioBlocking: (): Op => ({ code: OpCode.StdioBlocking, args: [] }),
  hook: (label: string, path: string, timeoutSeconds: number, argv: string[], env: string[]): Op => ({
    code: OpCode.Hook,
    args: [label, path, i(timeoutSeconds), ...list(argv), ...list(env)],
  }),
  /** program: struct sock_filter bytes; flags: SECCOMP_FILTER_FLAG_* for seccomp(2). */
  seccomp: (program: Buffer, flags: bigint): Op => ({ code: OpCode.Seccomp, args: [program, flags] }),
  /** The resolution root: later target paths must lie under it and are resolved inside it when used. */
  root: (path: string): Op => ({ code: OpCode.Root, args: [path] }),
  /**
   * A new mount (a tmpfs, never a bind or remount) over the directory `target`, filled with the directory's old
   * content (tmpcopyup): the executor copies it from the covered directory, in the root, following no link.
   */
  mountCopyup: (
    source: string,
    target: string,
    fstype: string,
    flags: number | bigint,
    data: string,
  ): Op => ({
    code: OpCode.MountCopyup,
    args: [source, target, fstype, i(flags), data],
  }),
  /** unshare(2) in the init: the cgroup namespace, made once the init is in its cgroups. */
  unshare: (flags: number): Op => ({ code: OpCode.Unshare, args: [i(flags)] }),
  /** A new session keyring named `name` (runc's "_ses.<id>"); `searchable` lets a later exec join it by name. */
  sessionKeyring: (name: string, searchable: boolean): Op => ({
    code: OpCode.SessionKeyring,
    args: [name, i(searchable ? 1 : 0)],
  }),
};
