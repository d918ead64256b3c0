// Waiting for an fd to become readable without blocking Node's event loop.
//
// Design: one shared poll(2) runs as a koffi `.async` call on a libuv threadpool thread. It
// watches an eventfd (the wake-up line) plus every fd someone is waiting on. A new waiter or
// a cancellation writes the eventfd; poll returns, we settle whoever is ready and re-arm with
// the waiters left. So however many accepts and receives are pending, fdpass occupies at
// most one threadpool thread (libuv has four by default, shared with fs and dns), and none
// at all once nothing waits: the eventfd is then closed too, so fd counts return to where
// they were.
//
// Alternatives we rejected: one blocking call per waiter (each would pin a threadpool thread
// forever); libuv's uv_poll via koffi's undocumented poll API (it forces O_NONBLOCK onto the
// caller's open file description and refuses an fd that Node already watches).
//
// libuv joins its threadpool on exit, so a thread parked in poll() would hang process.exit();
// an 'exit' listener wakes it first.
import { FdPassError, syscallError } from "./errors.js";
import { EFD_CLOEXEC, EFD_NONBLOCK, lastErrno, POLLIN, sys } from "./libc.js";

interface Waiter {
  fd: number;
  settle(error?: unknown): void;
}

const POLLFD_SIZE = 8; // struct pollfd { int fd; short events; short revents; }
const MAX_POLL_FAILURES = 100;

const waiters = new Set<Waiter>();
let wakeFd = -1;
let inFlight = false;
let pollFailures = 0;
let exitHookInstalled = false;
const one = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

function wake(): void {
  // EAGAIN means the counter is already non-zero: the poll will return anyway.
  if (wakeFd >= 0) sys.write(wakeFd, one, 8);
}

function drainWake(): void {
  if (wakeFd >= 0) sys.read(wakeFd, Buffer.alloc(8), 8);
}

function closeWake(): void {
  if (wakeFd >= 0) sys.close(wakeFd);
  wakeFd = -1;
}

function failAll(error: unknown): void {
  for (const w of [...waiters]) {
    waiters.delete(w);
    w.settle(error);
  }
}

function arm(): void {
  if (waiters.size === 0) {
    closeWake();
    return;
  }
  if (wakeFd < 0) {
    wakeFd = sys.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd < 0) {
      failAll(syscallError("eventfd", lastErrno()));
      return;
    }
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      if (inFlight) wake();
    });
  }
  const watched = [...waiters];
  const pollfds = Buffer.alloc(POLLFD_SIZE * (watched.length + 1));
  pollfds.writeInt32LE(wakeFd, 0);
  pollfds.writeInt16LE(POLLIN, 4);
  watched.forEach((w, i) => {
    pollfds.writeInt32LE(w.fd, POLLFD_SIZE * (i + 1));
    pollfds.writeInt16LE(POLLIN, POLLFD_SIZE * (i + 1) + 4);
  });
  inFlight = true;
  sys.poll.async(pollfds, watched.length + 1, -1, (err: unknown, res: number) => {
    inFlight = false;
    drainWake();
    if (err || res < 0) {
      // EINTR is the only expected failure; anything that repeats is a bug we must not spin on.
      if (++pollFailures >= MAX_POLL_FAILURES) {
        pollFailures = 0;
        failAll(
          new FdPassError(`poll: ${err ? String(err) : "failed repeatedly"}`, {
            code: "EIO",
            syscall: "poll",
          }),
        );
      }
    } else {
      pollFailures = 0;
      watched.forEach((w, i) => {
        // Any revents (POLLIN, POLLHUP, POLLERR, POLLNVAL) means the next call will not block;
        // that call reports what actually happened. A waiter already cancelled is skipped.
        if (pollfds.readInt16LE(POLLFD_SIZE * (i + 1) + 6) !== 0 && waiters.delete(w)) w.settle();
      });
    }
    arm();
  });
}

/**
 * Resolves when `fd` is readable (or hung up, or in error), rejects with `signal.reason` when
 * the signal aborts. The fd must stay open until the promise settles.
 */
export function waitReadable(fd: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      if (!waiters.delete(waiter)) return;
      waiter.settle(signal!.reason);
      // Re-arm without this fd, or stop the poll thread if nobody else waits.
      wake();
    };
    const waiter: Waiter = {
      fd,
      settle(error?: unknown) {
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      },
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    waiters.add(waiter);
    if (inFlight) wake();
    else arm();
  });
}

/** How many waiters are pending and whether a poll is running; for tests and diagnostics. */
export function pollerState(): { waiters: number; polling: boolean; wakeFd: number } {
  return { waiters: waiters.size, polling: inFlight, wakeFd };
}
