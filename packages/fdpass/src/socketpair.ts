import { invalidArgument, syscallError } from "./errors.js";
import { AF_UNIX, lastErrno, SOCK_CLOEXEC, SOCK_SEQPACKET, SOCK_STREAM, sys } from "./libc.js";

export type SocketType = "stream" | "seqpacket";

/**
 * A connected pair of AF_UNIX sockets, both close-on-exec. SOCK_SEQPACKET keeps message
 * boundaries (one sendFds is one recvFds); SOCK_STREAM is what console sockets use.
 */
export function socketpair(type: SocketType = "stream"): [number, number] {
  const kind = type === "seqpacket" ? SOCK_SEQPACKET : type === "stream" ? SOCK_STREAM : -1;
  if (kind < 0) throw invalidArgument(`socketpair: unknown socket type ${JSON.stringify(type)}`);
  const sv = new Int32Array(2);
  if (sys.socketpair(AF_UNIX, kind | SOCK_CLOEXEC, 0, sv) < 0) throw syscallError("socketpair", lastErrno());
  return [sv[0]!, sv[1]!];
}
