// @tsrun/fdpass: SCM_RIGHTS fd passing over unix sockets for Node, and console sockets that
// interoperate with runc, containerd and conmon.
export { MAX_CONSOLE_NAME, type ReceivedConsole, recvConsole, sendConsole } from "./console-message.js";
export { ConsoleSocketServer, connectConsoleSocket, type ListenOptions } from "./console-socket.js";
export { FdPassError, type FdPassErrorCode } from "./errors.js";
export { isCloexec, setCloexec } from "./fd.js";
export { type Received, type RecvOptions, recvFds, recvFdsSync, sendFds } from "./send-recv.js";
export { type SocketType, socketpair } from "./socketpair.js";
