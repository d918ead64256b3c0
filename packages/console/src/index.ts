export { Console, type ConsoleOptions, consoleFromFd, current } from "./console.js";
export { ConsoleError, NotAConsoleError } from "./errors.js";
export { newPty, type Pty } from "./pty.js";
export { createRelay, type Relay, type RelayOptions } from "./relay.js";
export { type RestoreHandle, restoreOnExit } from "./restore.js";
export type { Termios } from "./termios.js";
export { followWindowSize, type WindowSizeFollower, type WinSize } from "./winsize.js";
