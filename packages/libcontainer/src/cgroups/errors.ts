/**
 * Anything the cgroups module could not do. Messages name the operation, the value and the file, lower-case, with
 * no trailing period: `write 67108864 to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: EBUSY`.
 */
export class CgroupError extends Error {
  override name = "CgroupError";
  /** The errno name ("EBUSY") when a system call failed. */
  readonly code: string | undefined;

  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The errno name of a Node fs error, or its message when it has none. */
export function errnoOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : String((err as Error | undefined)?.message ?? err);
}
