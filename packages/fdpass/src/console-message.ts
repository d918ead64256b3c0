// The console-socket message, as runc sends it and containerd (go-runc) and conmon receive
// it: one message whose payload is the pty's name and which carries exactly one fd, the pty
// master, as SCM_RIGHTS. go-runc rejects names of 4096 bytes or more.
import { FdPassError, invalidArgument } from "./errors.js";
import { closeQuietly } from "./fd.js";
import { recvFds, sendFds } from "./send-recv.js";

/** Longest pty name a receiver accepts; go-runc and runc use a 4096-byte buffer. */
export const MAX_CONSOLE_NAME = 4095;

export interface ReceivedConsole {
  /** The pty master, close-on-exec, owned by the caller. */
  fd: number;
  /** The name the sender gave, usually the slave's path such as `/dev/pts/3`. */
  name: string;
}

/** Sends a pty master `fd` with its `name` over a connected console socket. */
export function sendConsole(sock: number, fd: number, name: string): void {
  const bytes = Buffer.from(name);
  if (bytes.length === 0) throw invalidArgument("sendmsg: console name must not be empty");
  if (bytes.length > MAX_CONSOLE_NAME) {
    throw invalidArgument(`sendmsg: console name longer than ${MAX_CONSOLE_NAME} bytes`);
  }
  sendFds(sock, [fd], bytes);
}

/**
 * Receives one console message: exactly one fd with its name. Anything else is a typed
 * FdPassError (ENOFD, ETOOMANYFDS, ECTRUNC, ETRUNC, EPEERCLOSED), and every fd that came with
 * the rejected message is closed.
 */
export async function recvConsole(sock: number, opts?: { signal?: AbortSignal }): Promise<ReceivedConsole> {
  const { fds, payload } = await recvFds(sock, {
    maxFds: 1,
    maxPayload: MAX_CONSOLE_NAME + 1,
    ...(opts?.signal ? { signal: opts.signal } : {}),
  });
  const fd = fds[0];
  if (fd === undefined) {
    throw new FdPassError("recvmsg: console message carries no fd", { code: "ENOFD", syscall: "recvmsg" });
  }
  if (payload.length > MAX_CONSOLE_NAME) {
    // On a stream socket the kernel does not flag truncation: a full buffer is the only sign.
    closeQuietly(fds);
    throw new FdPassError(`recvmsg: console name longer than ${MAX_CONSOLE_NAME} bytes`, {
      code: "ETRUNC",
      syscall: "recvmsg",
    });
  }
  // Some C senders count the terminating NUL in the payload; it is not part of the name.
  let end = payload.length;
  while (end > 0 && payload[end - 1] === 0) end--;
  return { fd, name: payload.subarray(0, end).toString() };
}
