// mount(2) flags and the parsing of a spec mount's options into flags, propagation changes and data, with the
// same vocabulary as runc's parseMountOptions: known flag words set or clear MS_* bits, propagation words become
// separate mount calls, and anything else is passed to the filesystem as data.

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_POSIXACL = 0x10000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_I_VERSION = 0x800000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;

/** word -> [clear?, flag] */
const FLAGS: Readonly<Record<string, readonly [boolean, number]>> = {
  acl: [false, MS_POSIXACL],
  async: [true, MS_SYNCHRONOUS],
  atime: [true, MS_NOATIME],
  bind: [false, MS_BIND],
  defaults: [false, 0],
  dev: [true, MS_NODEV],
  diratime: [true, MS_NODIRATIME],
  dirsync: [false, MS_DIRSYNC],
  exec: [true, MS_NOEXEC],
  iversion: [false, MS_I_VERSION],
  lazytime: [false, MS_LAZYTIME],
  loud: [true, MS_SILENT],
  mand: [false, MS_MANDLOCK],
  noacl: [true, MS_POSIXACL],
  noatime: [false, MS_NOATIME],
  nodev: [false, MS_NODEV],
  nodiratime: [false, MS_NODIRATIME],
  noexec: [false, MS_NOEXEC],
  noiversion: [true, MS_I_VERSION],
  nolazytime: [true, MS_LAZYTIME],
  nomand: [true, MS_MANDLOCK],
  norelatime: [true, MS_RELATIME],
  nostrictatime: [true, MS_STRICTATIME],
  nosuid: [false, MS_NOSUID],
  nosymfollow: [false, MS_NOSYMFOLLOW],
  rbind: [false, MS_BIND | MS_REC],
  relatime: [false, MS_RELATIME],
  remount: [false, MS_REMOUNT],
  ro: [false, MS_RDONLY],
  rw: [true, MS_RDONLY],
  silent: [false, MS_SILENT],
  strictatime: [false, MS_STRICTATIME],
  suid: [true, MS_NOSUID],
  symfollow: [true, MS_NOSYMFOLLOW],
  sync: [false, MS_SYNCHRONOUS],
};

export const PROPAGATION: Readonly<Record<string, number>> = {
  private: MS_PRIVATE,
  shared: MS_SHARED,
  slave: MS_SLAVE,
  unbindable: MS_UNBINDABLE,
  rprivate: MS_PRIVATE | MS_REC,
  rshared: MS_SHARED | MS_REC,
  rslave: MS_SLAVE | MS_REC,
  runbindable: MS_UNBINDABLE | MS_REC,
};

/**
 * Options that name a real feature tsrun lacks: refused rather than passed on as data, where they would fail
 * with a bare EINVAL or, worse, be taken by a filesystem that knows them. Recursive attributes (rro, rnosuid...)
 * need mount_setattr(2); idmap needs idmapped mounts.
 */
const UNSUPPORTED = new Set([
  "idmap",
  "ridmap",
  "rro",
  "rrw",
  "rnosuid",
  "rsuid",
  "rnodev",
  "rdev",
  "rnoexec",
  "rexec",
  "rnodiratime",
  "rdiratime",
  "rrelatime",
  "rnorelatime",
  "rnoatime",
  "ratime",
  "rstrictatime",
  "rnosymfollow",
  "rsymfollow",
]);

const TMPCOPYUP = "tmpcopyup";

export interface MountOptions {
  flags: number;
  /** Propagation changes, each applied by its own mount(2) call after the mount. */
  propagation: number[];
  /** Unknown words, comma-joined, for the filesystem. */
  data: string;
  /** tmpcopyup (runc's EXT_COPYUP): a tmpfs gets the old content of the directory it covers. */
  copyUp: boolean;
}

/** Returns the parsed options, or the first unsupported option's name in `unsupported`. */
export function parseMountOptions(
  options: readonly string[] | undefined,
): MountOptions & { unsupported?: string } {
  let flags = 0;
  let copyUp = false;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const o of options ?? []) {
    const f = FLAGS[o];
    const p = PROPAGATION[o];
    if (f) flags = f[0] ? flags & ~f[1] : flags | f[1];
    else if (p !== undefined) propagation.push(p);
    else if (o === TMPCOPYUP) copyUp = true;
    else if (UNSUPPORTED.has(o)) return { flags, propagation, data: data.join(","), copyUp, unsupported: o };
    else data.push(o);
  }
  return { flags, propagation, data: data.join(","), copyUp };
}

/** A bind mount in runc's sense: type "bind", or a bind/rbind option whatever the type. */
export const isBindMount = (m: { type?: string; options?: string[] }): boolean =>
  m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");

/** Every option word tsrun understands, for `tsrun features`. */
export const mountOptionNames = (): string[] =>
  [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), TMPCOPYUP].sort();
