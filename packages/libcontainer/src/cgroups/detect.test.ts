import { describe, expect, it } from "vitest";
import { detectLayout, parseCgroupMounts, parseSelfCgroup } from "./detect.js";
import {
  HYBRID_MOUNTINFO,
  HYBRID_SELF_CGROUP,
  V1_MOUNTINFO,
  V1_SELF_CGROUP,
  V2_MOUNTINFO,
  V2_SELF_CGROUP,
} from "./fixtures.js";

describe("detectLayout", () => {
  it("finds pure cgroup v2", () => {
    expect(detectLayout(V2_MOUNTINFO)).toEqual({
      mode: "v2",
      unified: { mountpoint: "/sys/fs/cgroup", root: "/", controllers: [] },
    });
  });

  it("finds this host's hybrid layout: v1 controllers, named systemd, and the unified tree", () => {
    const layout = detectLayout(HYBRID_MOUNTINFO);
    expect(layout.mode).toBe("hybrid");
    if (layout.mode !== "hybrid") return;
    expect(layout.v1.map((m) => m.controllers.join(","))).toEqual([
      "cpu",
      "cpuacct",
      "cpuset",
      "memory",
      "devices",
      "freezer",
      "blkio",
      "pids",
      "name=systemd",
    ]);
    expect(layout.unified.mountpoint).toBe("/sys/fs/cgroup/unified");
  });

  it("finds v1 only, with co-mounted controllers and mount options that are not controllers", () => {
    const layout = detectLayout(V1_MOUNTINFO);
    expect(layout.mode).toBe("v1");
    if (layout.mode !== "v1") return;
    const systemd = layout.v1.find((m) => m.mountpoint === "/sys/fs/cgroup/systemd");
    expect(systemd?.controllers).toEqual(["name=systemd"]);
    const cpu = layout.v1.find((m) => m.mountpoint === "/sys/fs/cgroup/cpu,cpuacct");
    expect(cpu?.controllers).toEqual(["cpu", "cpuacct"]);
  });

  it("ignores cgroup mounts outside /sys/fs/cgroup, such as a container's", () => {
    const text = `${V2_MOUNTINFO}90 30 0:26 / /run/c/rootfs/sys/fs/cgroup ro - cgroup2 cgroup2 rw\n`;
    expect(parseCgroupMounts(text)).toHaveLength(1);
  });

  it("lets a later mount hide an earlier one on the same mount point", () => {
    // A v1 host whose /sys/fs/cgroup was later replaced by cgroup2.
    const text = `${V1_MOUNTINFO}50 18 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n`;
    expect(detectLayout(text).mode).toBe("v2");
  });

  it("reads mount roots and unescapes octal escapes", () => {
    const text = "40 31 0:37 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    expect(parseCgroupMounts(text)[0]?.root).toBe("/docker/abc");
    const spaced = "40 31 0:37 /a\\040b /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    expect(parseCgroupMounts(spaced)[0]?.root).toBe("/a b");
  });

  it("refuses a host without cgroups", () => {
    expect(() => detectLayout("22 1 253:1 / / rw - ext4 /dev/vda rw\n")).toThrow(
      /no cgroup hierarchy is mounted/,
    );
  });
});

describe("parseSelfCgroup", () => {
  it("maps each v1 controller, the co-mounted list and named hierarchies", () => {
    const self = parseSelfCgroup(V1_SELF_CGROUP);
    expect(self.get("cpu")).toBe("/system.slice/containerd.service");
    expect(self.get("cpuacct")).toBe("/system.slice/containerd.service");
    expect(self.get("cpu,cpuacct")).toBe("/system.slice/containerd.service");
    expect(self.get("name=systemd")).toBe("/system.slice/containerd.service");
    expect(self.get("cpuset")).toBe("/");
    expect(self.has("")).toBe(false);
  });

  it("maps the v2 line to the empty key", () => {
    expect(parseSelfCgroup(V2_SELF_CGROUP).get("")).toBe("/user.slice/user-1000.slice/session-3.scope");
    const hybrid = parseSelfCgroup(HYBRID_SELF_CGROUP);
    expect(hybrid.get("")).toBe("/");
    expect(hybrid.get("memory")).toBe("/process_api/38aa7e6e089ba6637dcf5db4fd0ca190");
  });

  it("keeps colons inside the path", () => {
    expect(parseSelfCgroup("0::/a:b\n").get("")).toBe("/a:b");
  });
});
