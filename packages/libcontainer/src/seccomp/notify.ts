// The seccomp agent hand-over (runtime-spec config-linux.md "The Container Process State"), as runc does it:
// copy the listener out of the init's fd table with pidfd_getfd(2), connect to the profile's listenerPath, and
// send one message whose payload is the ContainerProcessState JSON and whose one SCM_RIGHTS fd is the listener
// (named by "fds": ["seccompFd"]).
import { connectConsoleSocket, sendFds } from "@tsrun/fdpass";
import koffi from "koffi";
import { ContainerError } from "../container-error.js";
import { OCI_VERSION } from "../default-spec.js";
import type { OciState } from "../state-json.js";

const SYS_pidfd_open = 434;
const SYS_pidfd_getfd = 438;

let syscall: ((nr: number, ...args: unknown[]) => number | bigint) | undefined;
let closeFd: ((fd: number) => number) | undefined;

function sys(): { syscall: NonNullable<typeof syscall>; close: NonNullable<typeof closeFd> } {
  if (!syscall || !closeFd) {
    const libc = koffi.load("libc.so.6");
    syscall = libc.func("long syscall(long nr, ...)") as NonNullable<typeof syscall>;
    closeFd = libc.func("int close(int fd)") as NonNullable<typeof closeFd>;
  }
  return { syscall, close: closeFd };
}

function errnoName(): string {
  const errno = koffi.errno();
  return Object.entries(koffi.os.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
}

/** What the agent receives: runtime-spec's ContainerProcessState. */
export interface ContainerProcessState {
  ociVersion: string;
  fds: string[];
  pid: number;
  metadata?: string;
  state: OciState;
}

export function containerProcessState(
  pid: number,
  state: OciState,
  metadata?: string,
): ContainerProcessState {
  return {
    ociVersion: OCI_VERSION,
    fds: ["seccompFd"],
    pid,
    ...(metadata ? { metadata } : {}),
    state,
  };
}

/** A copy of fd `targetFd` of process `pid` (close-on-exec, ours to close). */
export function pidGetFd(pid: number, targetFd: number): number {
  const { syscall, close } = sys();
  const pidfd = Number(syscall(SYS_pidfd_open, "int", pid, "unsigned int", 0));
  if (pidfd < 0) throw new ContainerError(`seccomp: pidfd_open ${pid}: ${errnoName()}`);
  try {
    const fd = Number(syscall(SYS_pidfd_getfd, "int", pidfd, "int", targetFd, "unsigned int", 0));
    if (fd < 0) throw new ContainerError(`seccomp: pidfd_getfd ${pid} fd ${targetFd}: ${errnoName()}`);
    return fd;
  } finally {
    close(pidfd);
  }
}

export interface ListenerHandover {
  /** The init's pid (host pid namespace). */
  pid: number;
  /** The listener's number in the init's fd table (FRAME_SECCOMP_FD). */
  fd: number;
  listenerPath: string;
  listenerMetadata?: string;
  /** The container's state at this moment (status "creating", as runc sends it). */
  state: OciState;
}

/** Copies the listener from the init and sends it to the agent; our copies are closed on every path. */
export function sendSeccompListener(h: ListenerHandover): void {
  const { close } = sys();
  const listener = pidGetFd(h.pid, h.fd);
  try {
    let sock: number;
    try {
      sock = connectConsoleSocket(h.listenerPath);
    } catch (e) {
      throw new ContainerError(`seccomp: connect to the agent at ${h.listenerPath}: ${(e as Error).message}`);
    }
    try {
      const payload = JSON.stringify(containerProcessState(h.pid, h.state, h.listenerMetadata));
      sendFds(sock, [listener], payload);
    } catch (e) {
      throw new ContainerError(`seccomp: send the listener to ${h.listenerPath}: ${(e as Error).message}`);
    } finally {
      close(sock);
    }
  } finally {
    close(listener);
  }
}
