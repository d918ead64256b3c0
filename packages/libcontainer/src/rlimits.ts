// RLIMIT_* names and numbers (asm-generic/resource.h, as on x86_64 and arm64) and the conversion of the spec's
// uint64 values to the executor's i64, where -1 is RLIM_INFINITY.

export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export const isRlimit = (name: string): boolean => Object.hasOwn(RLIMITS, name);

/**
 * JSON numbers are doubles: 18446744073709551615 (RLIM_INFINITY as uint64) parses as 2^64 exactly, and anything
 * at or above 2^63 cannot be a real limit either, so both mean "unlimited" (-1n for the executor).
 */
export function rlimitValue(n: number): bigint {
  if (n >= 2 ** 63) return -1n;
  return BigInt(Math.trunc(n));
}
