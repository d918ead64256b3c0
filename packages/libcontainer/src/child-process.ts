// node:child_process on first use rather than at load: it brings node:net with it (~2 ms of every tsrun
// command), and only the commands that start the executor, run hooks or call ps need it.
import type * as ChildProcessModule from "node:child_process";

export function childProcess(): typeof ChildProcessModule {
  return process.getBuiltinModule("node:child_process");
}
