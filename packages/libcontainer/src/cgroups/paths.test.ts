import { describe, expect, it } from "vitest";
import { detectLayout, parseSelfCgroup } from "./detect.js";
import {
  HYBRID_MOUNTINFO,
  HYBRID_SELF_CGROUP,
  V1_MOUNTINFO,
  V1_SELF_CGROUP,
  V2_MOUNTINFO,
  V2_SELF_CGROUP,
} from "./fixtures.js";
import { cleanCgroupsPath, resolvePaths } from "./paths.js";

const resolve = (
  mountinfo: string,
  selfText: string,
  cgroupsPath: string | undefined,
  root = "/sys/fs/cgroup",
) =>
  resolvePaths(detectLayout(mountinfo), {
    cgroupsPath,
    id: "ctr",
    root,
    self: () => parseSelfCgroup(selfText),
  });

describe("cleanCgroupsPath", () => {
  it("keeps absolute paths absolute and relative ones inside", () => {
    expect(cleanCgroupsPath("/a/../b//c/")).toBe("/b/c");
    expect(cleanCgroupsPath("../../a/b")).toBe("a/b");
    expect(cleanCgroupsPath("a/./b/")).toBe("a/b");
    expect(cleanCgroupsPath("/../..")).toBe("/");
    expect(cleanCgroupsPath("")).toBe("");
  });
});

describe("resolvePaths", () => {
  it("v2, absolute: under the tree's root", () => {
    expect(resolve(V2_MOUNTINFO, V2_SELF_CGROUP, "/default/ctr")).toEqual({
      "": "/sys/fs/cgroup/default/ctr",
    });
  });

  it("v2, relative: under the parent of the runtime's own cgroup, as runc", () => {
    expect(resolve(V2_MOUNTINFO, V2_SELF_CGROUP, "a/b")).toEqual({
      "": "/sys/fs/cgroup/user.slice/user-1000.slice/a/b",
    });
  });

  it("v2, absent: the id, relative", () => {
    expect(resolve(V2_MOUNTINFO, V2_SELF_CGROUP, undefined)).toEqual({
      "": "/sys/fs/cgroup/user.slice/user-1000.slice/ctr",
    });
  });

  it("hybrid, absent: the id under the own cgroup of each v1 hierarchy, the unified root for '' (as runc 1.1.5 here)", () => {
    expect(resolve(HYBRID_MOUNTINFO, HYBRID_SELF_CGROUP, undefined)).toEqual({
      "": "/sys/fs/cgroup/unified/ctr",
      blkio: "/sys/fs/cgroup/blkio/ctr",
      cpu: "/sys/fs/cgroup/cpu/ctr",
      cpuacct: "/sys/fs/cgroup/cpuacct/ctr",
      cpuset: "/sys/fs/cgroup/cpuset/ctr",
      devices: "/sys/fs/cgroup/devices/ctr",
      freezer: "/sys/fs/cgroup/freezer/ctr",
      memory: "/sys/fs/cgroup/memory/process_api/38aa7e6e089ba6637dcf5db4fd0ca190/ctr",
      "name=systemd": "/sys/fs/cgroup/systemd/ctr",
      pids: "/sys/fs/cgroup/pids/ctr",
    });
  });

  it("hybrid, absolute (containerd's /<ns>/<id>): the same path in every hierarchy", () => {
    const paths = resolve(HYBRID_MOUNTINFO, HYBRID_SELF_CGROUP, "/default/ctr");
    expect(paths.memory).toBe("/sys/fs/cgroup/memory/default/ctr");
    expect(paths[""]).toBe("/sys/fs/cgroup/unified/default/ctr");
    expect(paths["name=systemd"]).toBe("/sys/fs/cgroup/systemd/default/ctr");
  });

  it("v1 with co-mounted controllers: both keys point at the shared directory", () => {
    const paths = resolve(V1_MOUNTINFO, V1_SELF_CGROUP, "/libpod_parent/libpod-x");
    expect(paths.cpu).toBe("/sys/fs/cgroup/cpu,cpuacct/libpod_parent/libpod-x");
    expect(paths.cpuacct).toBe(paths.cpu);
    expect(paths.net_cls).toBe("/sys/fs/cgroup/net_cls,net_prio/libpod_parent/libpod-x");
    expect(paths[""]).toBeUndefined();
  });

  it("v1, relative: per hierarchy, from /proc/self/cgroup", () => {
    const paths = resolve(V1_MOUNTINFO, V1_SELF_CGROUP, "sub");
    expect(paths.memory).toBe("/sys/fs/cgroup/memory/system.slice/containerd.service/sub");
    expect(paths.cpuset).toBe("/sys/fs/cgroup/cpuset/sub");
    expect(paths["name=systemd"]).toBe("/sys/fs/cgroup/systemd/system.slice/containerd.service/sub");
  });

  it("relative inside a container: the own cgroup is taken relative to the mount's root", () => {
    const mountinfo = "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    const paths = resolve(mountinfo, "4:memory:/docker/abc/inner\n", "sub");
    expect(paths.memory).toBe("/sys/fs/cgroup/memory/inner/sub");
  });

  it("relative paths cannot climb out of a hierarchy", () => {
    expect(resolve(V2_MOUNTINFO, "0::/\n", "../../../etc")).toEqual({ "": "/sys/fs/cgroup/etc" });
  });

  it("moves /sys/fs/cgroup to the root option", () => {
    expect(resolve(HYBRID_MOUNTINFO, HYBRID_SELF_CGROUP, "/x", "/tmp/t").cpu).toBe("/tmp/t/cpu/x");
  });

  it("refuses the root cgroup itself and a missing own cgroup", () => {
    expect(() => resolve(V2_MOUNTINFO, V2_SELF_CGROUP, "/")).toThrow(/names the root cgroup/);
    expect(() => resolve(V1_MOUNTINFO, "0::/\n", "rel")).toThrow(/cannot find the .* cgroup of this process/);
  });
});
