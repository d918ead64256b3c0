// Specs in the shape real clients write (see ../shared/clients.md), and the host they compile for, for validation
// and compile tests.
import type { HostFacts } from "./host-facts.js";
import type { Spec } from "./spec.js";

/**
 * The host compile tests assume: root on cgroup v2, no SELinux, no AppArmor attr dir, no /proc/kcore,
 * CAP_LAST_CAP 40, every path a directory; `over` changes any of it.
 */
export const testHost = (over: Partial<HostFacts> = {}): HostFacts => ({
  pathKind: () => "dir",
  readlink: () => null,
  kcore: false,
  cgroup: { version: 2 },
  lastCap: 40,
  rootlessEuid: false,
  egid: 0,
  selinux: false,
  apparmorAttrDir: false,
  ...over,
});

const CONTAINERD_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** `ctr run --rootfs /r ID sh`: containerd 1.6's default Unix spec (no env with --rootfs). */
export const containerdSpec = (): Spec => ({
  ociVersion: "1.0.2-dev",
  process: {
    user: { uid: 0, gid: 0 },
    args: ["sh"],
    cwd: "/",
    capabilities: {
      bounding: [...CONTAINERD_CAPS],
      effective: [...CONTAINERD_CAPS],
      permitted: [...CONTAINERD_CAPS],
    },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  root: { path: "/r" },
  mounts: [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    {
      destination: "/run",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
  ],
  linux: {
    resources: { devices: [{ allow: false, access: "rwm" }] },
    cgroupsPath: "/default/c1",
    namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network" }],
    maskedPaths: [
      "/proc/acpi",
      "/proc/asound",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/sys/firmware",
      "/proc/scsi",
      "/sys/devices/virtual/powercap",
    ],
    readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
  },
});

/** podman 4.3 `run --network none`, trimmed: what matters is its shape, and that it always has seccomp. */
export const podmanSpec = (): Spec => ({
  ociVersion: "1.0.2-dev",
  process: {
    user: { uid: 0, gid: 0, umask: 0o22 },
    args: ["sh"],
    env: [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm",
      "container=podman",
    ],
    cwd: "/",
    capabilities: {
      bounding: ["CAP_CHOWN", "CAP_KILL"],
      effective: ["CAP_CHOWN", "CAP_KILL"],
      permitted: ["CAP_CHOWN", "CAP_KILL"],
    },
    rlimits: [
      { type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 },
      { type: "RLIMIT_NPROC", hard: 4194304, soft: 4194304 },
    ],
    oomScoreAdj: 0,
  },
  root: { path: "/var/lib/containers/storage/vfs/dir/abc" },
  hostname: "abc",
  mounts: [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nodev", "noexec", "nosuid"] },
    {
      destination: "/etc/hosts",
      type: "bind",
      source: "/run/containers/storage/vfs-containers/abc/userdata/hosts",
      options: ["bind", "rprivate"],
    },
    {
      destination: "/dev/shm",
      type: "bind",
      source: "/var/lib/containers/storage/vfs-containers/abc/userdata/shm",
      options: ["bind", "rprivate"],
    },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"],
    },
  ],
  annotations: { "io.container.manager": "libpod", "org.opencontainers.image.stopSignal": "15" },
  linux: {
    sysctl: { "net.ipv4.ping_group_range": "0 0" },
    resources: { devices: [{ allow: false, access: "rwm" }], pids: { limit: 2048 } },
    cgroupsPath: "/libpod_parent/libpod-abc",
    namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
    seccomp: { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, architectures: ["SCMP_ARCH_X86_64"] },
    maskedPaths: ["/proc/acpi", "/proc/kcore"],
    readonlyPaths: ["/proc/asound", "/proc/bus"],
  },
});
