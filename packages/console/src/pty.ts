import { Console } from "./console.js";
import { O_CLOEXEC, O_NOCTTY, O_RDWR, sysClose, sysIoctl, sysOpen, TIOCGPTN, TIOCSPTLCK } from "./libc.js";

export interface Pty {
  /** The master side, owned: close() closes it. */
  master: Console;
  /** The slave's path, such as `/dev/pts/3`; open it to get the terminal a program runs on. */
  slavePath: string;
}

/**
 * Opens a new pty pair's master from /dev/ptmx and unlocks its slave. ptsname and unlockpt are done
 * with the ioctls themselves (TIOCGPTN, TIOCSPTLCK), which is all glibc does on Linux.
 */
export function newPty(): Pty {
  const ptmx = "/dev/ptmx";
  const fd = sysOpen(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
  try {
    sysIoctl(fd, TIOCSPTLCK, "TIOCSPTLCK", Buffer.alloc(4), ptmx);
    const n = Buffer.alloc(4);
    sysIoctl(fd, TIOCGPTN, "TIOCGPTN", n, ptmx);
    const master = new Console(fd, { name: ptmx, owned: true });
    return { master, slavePath: `/dev/pts/${n.readUInt32LE(0)}` };
  } catch (err) {
    sysClose(fd, ptmx);
    throw err;
  }
}
