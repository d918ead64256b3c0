// `tsrun features` (runtime-spec features.md), as containerd 2.x reads it: only what tsrun really does.
import { CAPABILITIES } from "./capabilities.js";
import { OCI_VERSION } from "./default-spec.js";
import { mountOptionNames } from "./mount-options.js";
import { NAMESPACE_FLAGS } from "./namespaces.js";
import { seccompFeatures } from "./seccomp/names.js";

export function features() {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: OCI_VERSION,
    hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
    mountOptions: mountOptionNames(),
    linux: {
      namespaces: Object.keys(NAMESPACE_FLAGS)
        .filter((n) => n !== "time")
        .sort(),
      capabilities: Object.keys(CAPABILITIES),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: seccompFeatures(),
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
  };
}
