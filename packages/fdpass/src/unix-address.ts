// sockaddr_un for filesystem paths, including paths longer than sun_path.
//
// sun_path holds 108 bytes. For a longer path we open the parent directory O_PATH and name the
// socket through /proc/self/fd/<dirfd>/<basename>, which the kernel resolves like any path.
// The alternative, chdir into the directory, changes the cwd of the whole process and races
// with every other thread and async operation in it.
import { basename, dirname } from "node:path";
import { FdPassError, invalidArgument, syscallError } from "./errors.js";
import { AF_UNIX, lastErrno, O_CLOEXEC, O_DIRECTORY, O_PATH, sys } from "./libc.js";

const SUN_PATH_LEN = 108;
const SOCKADDR_UN_LEN = 2 + SUN_PATH_LEN;

export interface UnixAddress {
  /** struct sockaddr_un, ready for bind(2) or connect(2). */
  addr: Buffer;
  /** The addrlen argument: family + path + its NUL. */
  len: number;
  /** Closes the directory fd held for a long path. Call it once bind/connect has returned. */
  release(): void;
}

function encode(bytes: Buffer): UnixAddress {
  const addr = Buffer.alloc(SOCKADDR_UN_LEN);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return { addr, len: 2 + bytes.length + 1, release: () => {} };
}

/**
 * Builds the address for `path`. `syscall` names the operation in errors (`bind`, `connect`).
 * The result may hold an fd: call `release()` after use, on every path.
 */
export function unixAddress(path: string, syscall: string): UnixAddress {
  const bytes = Buffer.from(path);
  if (bytes.length === 0) throw invalidArgument(`${syscall}: empty socket path`);
  if (bytes.includes(0)) throw invalidArgument(`${syscall} ${path}: socket path contains a NUL byte`);
  // One byte stays free for the terminating NUL, so the kernel never reads past the path.
  if (bytes.length < SUN_PATH_LEN) return encode(bytes);

  const dir = dirname(path);
  const name = Buffer.from(basename(path));
  const dirfd = sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) throw syscallError("open", lastErrno(), dir);
  const proxy = Buffer.from(`/proc/self/fd/${dirfd}/${name.toString()}`);
  if (proxy.length >= SUN_PATH_LEN) {
    sys.close(dirfd);
    throw new FdPassError(`${syscall} ${path}: ENAMETOOLONG`, { code: "ENAMETOOLONG", syscall, path });
  }
  const address = encode(proxy);
  let open = true;
  address.release = () => {
    if (open) sys.close(dirfd);
    open = false;
  };
  return address;
}
