import { renameSync, writeFileSync } from "node:fs";

/**
 * Writes this process's pid, with no trailing newline, to `path`. Written to a temporary name and
 * renamed, so a reader polling for the file never sees it empty.
 */
export function writePidFile(path: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, String(process.pid));
  renameSync(tmp, path);
}
