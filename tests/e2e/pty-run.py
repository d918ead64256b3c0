#!/usr/bin/python3
# Runs a command on the slave side of a fresh pseudo-terminal of a given size, copies what it prints to stdout,
# and exits with its exit code (128+N for a signal), so that `-t` cases see a real terminal as their stdin.
# Usage: pty-run.py ROWS COLS [--send-after MARKER TEXT]... -- CMD ARGS...
# Each TEXT is written to the terminal once MARKER has appeared in the output (in order).
import fcntl
import os
import select
import struct
import sys
import termios


def main() -> int:
    args = sys.argv[1:]
    rows, cols = int(args[0]), int(args[1])
    args = args[2:]
    sends = []
    while args and args[0] == "--send-after":
        sends.append((args[1].encode(), args[2].encode()))
        args = args[3:]
    if args and args[0] == "--":
        args = args[1:]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(args[0], args)
        finally:
            os._exit(127)
    os.close(slave)
    seen = b""
    out = sys.stdout.buffer
    while True:
        try:
            r, _, _ = select.select([master], [], [], 0.5)
        except InterruptedError:
            continue
        if not r:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                # The command is gone; drain what is left without blocking on a slave held by orphans.
                try:
                    while select.select([master], [], [], 0.2)[0]:
                        data = os.read(master, 65536)
                        if not data:
                            break
                        out.write(data)
                except OSError:
                    pass
                out.flush()
                return code(status)
            continue
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out.write(data)
        out.flush()
        seen += data
        while sends and sends[0][0] in seen:
            seen = seen[seen.index(sends[0][0]) + len(sends[0][0]) :]
            os.write(master, sends[0][1])
            sends.pop(0)
    _, status = os.waitpid(pid, 0)
    return code(status)


def code(status: int) -> int:
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main())
