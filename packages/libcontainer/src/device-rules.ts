// The device cgroup rules a container gets: the spec's own, then allow rules for what every container needs
// (runc's AllowedDevices) and for each device in linux.devices, so a spec that starts with "deny all" (runc's
// default, and podman's) still lets init create /dev/null and open a pty.
import type { DeviceCgroup, LinuxDevice } from "./spec.js";

const allow = (
  type: string,
  major: number | undefined,
  minor: number | undefined,
  access: string,
): DeviceCgroup => ({
  allow: true,
  type,
  ...(major === undefined ? {} : { major }),
  ...(minor === undefined ? {} : { minor }),
  access,
});

/** runc's list: mknod of any device, the six defaults, the console, ptys and ptmx, and /dev/net/tun. */
const ALWAYS: readonly DeviceCgroup[] = [
  allow("c", undefined, undefined, "m"),
  allow("b", undefined, undefined, "m"),
  allow("c", 1, 3, "rwm"), // null
  allow("c", 1, 8, "rwm"), // random
  allow("c", 1, 7, "rwm"), // full
  allow("c", 5, 0, "rwm"), // tty
  allow("c", 1, 5, "rwm"), // zero
  allow("c", 1, 9, "rwm"), // urandom
  allow("c", 5, 1, "rwm"), // console
  allow("c", 136, undefined, "rwm"), // pts/*
  allow("c", 5, 2, "rwm"), // ptmx
  allow("c", 10, 200, "rwm"), // net/tun
];

export function deviceRules(
  rules: readonly DeviceCgroup[] | undefined,
  devices: readonly LinuxDevice[] | undefined,
): DeviceCgroup[] {
  return [
    ...(rules ?? []),
    ...ALWAYS,
    ...(devices ?? []).map((d) => allow(d.type === "u" ? "c" : d.type, d.major, d.minor, "rwm")),
  ];
}
