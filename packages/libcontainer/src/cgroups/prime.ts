// The first cgroup.procs write after a quiet spell waits for an RCU grace period: the kernel moves the readers of
// its global cgroup_threadgroup_rwsem (every fork, exec and exit) to their slow path before a writer may take it.
// On a busy host that is 10-20 ms, and a create pays it in the cgroups sync, with the init and this thread
// waiting. A write of tsrun's own pid to the cgroup it is already in moves nothing, yet starts that switch at
// once, on a threadpool thread, while the bundle is compiled and the executor started; the init's join finds the
// grace period over (the kernel keeps the fast path for writers for another grace period after the last one).

import { closeSync, openSync, readFileSync, write } from "node:fs";
import { CGROUP_MOUNT_ROOT } from "./detect.js";

// One write at a time per process: creates in parallel (a program using this library) would each queue one, and the
// writes wait for each other in the kernel, each holding a threadpool thread and an fd until its grace period ends.
let inFlight = false;
// The CLI's launcher writes before the bundle is even read (scripts/make-bin.mjs); once it has, a second write
// here would only cost the command another read of /proc/self/cgroup.
let primedByCaller = false;

/** Tells primeCgroupAttach that this process has already started the grace period itself. */
export function cgroupAttachPrimed(): void {
  primedByCaller = true;
}

/**
 * Starts that grace period now; best effort and asynchronous (any error, e.g. rootless EACCES, is moot). Its fd
 * is closed when the write returns, one grace period later.
 */
export function primeCgroupAttach(): void {
  if (inFlight || primedByCaller) return;
  let text: string;
  try {
    text = readFileSync("/proc/self/cgroup", "utf8");
  } catch {
    return;
  }
  let file: string | undefined;
  for (const line of text.split("\n")) {
    const [id, controllers, path] = line.split(":", 3);
    if (path === undefined) continue;
    // v1 (or hybrid): one hierarchy is enough, the rwsem is global; pids is mounted on every v1 host runc supports.
    if (controllers?.split(",").includes("pids")) file = `${CGROUP_MOUNT_ROOT}/pids${path}/cgroup.procs`;
    else if (id === "0" && controllers === "" && file === undefined && !text.includes(":pids:"))
      file = `${CGROUP_MOUNT_ROOT}${path}/cgroup.procs`;
  }
  if (file === undefined) return;
  // Opened here and written in one threadpool request: fs.writeFile would wait for this thread to return to the
  // event loop between its open and its write, which is after the compile and the executor's start.
  let fd: number;
  try {
    fd = openSync(file, "w");
  } catch {
    return;
  }
  inFlight = true;
  write(fd, String(process.pid), () => {
    inFlight = false;
    closeSync(fd);
  });
}
