import { constants } from "node:os";
import type { Console } from "./console.js";

export interface RestoreHandle {
  /** Stops watching; the console is no longer reset on exit. */
  dispose(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type WatchedSignal = (typeof SIGNALS)[number];

// One set of process listeners shared by every registered console, so that a signal resets them all
// before anything re-raises it.
const registered: { console: Console }[] = [];
const handlers = new Map<WatchedSignal, () => void>();

function resetAll(): void {
  // Newest first, like nested defers: a console registered twice ends in its oldest saved state.
  for (const { console } of [...registered].reverse()) {
    try {
      if (!console.closed) console.reset();
    } catch {
      // Exiting anyway; one broken console must not keep the others raw.
    }
  }
}

function onExit(): void {
  resetAll();
}

function install(): void {
  process.on("exit", onExit);
  for (const signal of SIGNALS) {
    const handler = (): void => onSignal(signal, handler);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
}

function uninstall(): void {
  process.removeListener("exit", onExit);
  for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  handlers.clear();
}

function onSignal(signal: WatchedSignal, self: () => void): void {
  // Someone else listens too: the signal is theirs to act on (they may keep running in raw mode);
  // the exit listener still resets if they end the process.
  if (process.listeners(signal).some((l) => l !== self)) return;
  resetAll();
  registered.length = 0;
  uninstall();
  // With no listener left Node restores the default action, so the re-raised signal ends the process
  // the way it would have without us (the parent sees the signal, the shell 128+n).
  process.kill(process.pid, signal);
  setTimeout(() => process.exit(128 + constants.signals[signal]), 100);
}

/**
 * Resets `c` (restores the termios saved before its first change) when the process exits normally,
 * through process.exit(), on an uncaught error, or on SIGINT, SIGTERM or SIGHUP; after a signal the
 * signal is re-raised so the process still dies of it. A signal that has other listeners is left to them.
 */
export function restoreOnExit(c: Console): RestoreHandle {
  const entry = { console: c };
  if (registered.length === 0) install();
  registered.push(entry);
  let disposed = false;
  return {
    dispose(): void {
      if (disposed) return;
      disposed = true;
      const i = registered.indexOf(entry);
      if (i >= 0) registered.splice(i, 1);
      if (registered.length === 0) uninstall();
    },
  };
}
