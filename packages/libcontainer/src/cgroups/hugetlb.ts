// hugetlb limits, the same on v1 and v2 but for the file suffix ("limit_in_bytes" or "max").
import type { Resources } from "../spec.js";
import { CgroupError } from "./errors.js";
import { writeValue } from "./files.js";
import { hugepageSize, int } from "./values.js";

export function writeHugetlb(
  dir: string,
  limits: NonNullable<Resources["hugepageLimits"]>,
  suffix: string,
): void {
  // The reservation limits (.rsvd., kernel 5.7) get the same value; older kernels lack them.
  let rsvd = true;
  for (const l of limits) {
    const prefix = `hugetlb.${hugepageSize(l)}`;
    const value = int(l.limit, "hugepageLimits.limit");
    writeValue(dir, `${prefix}.${suffix}`, value);
    if (!rsvd) continue;
    try {
      writeValue(dir, `${prefix}.rsvd.${suffix}`, value);
    } catch (err) {
      if (!(err instanceof CgroupError && err.code === "ENOENT")) throw err;
      rsvd = false;
    }
  }
}
