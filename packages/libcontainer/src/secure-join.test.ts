import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePlan } from "./compile.js";
import { defaultSpec } from "./default-spec.js";
import { OpCode } from "./plan.js";
import { RootfsResolver, readlink } from "./secure-join.js";

const links = (map: Record<string, string>) => (p: string) => map[p] ?? null;

describe("RootfsResolver", () => {
  it("resolves lexically without links, never above /", () => {
    const r = new RootfsResolver("/r", () => null);
    expect(r.resolve("/../../etc/")).toBe("/etc");
    expect(r.resolve("a/./b/../c")).toBe("/a/c");
    expect(r.host("/")).toBe("/r");
    expect(r.host("/../x")).toBe("/r/x");
  });

  it("follows absolute and relative links inside the rootfs", () => {
    const r = new RootfsResolver(
      "/r",
      links({ "/r/run": "/etc", "/r/etc/up": "../../../../host", "/r/v": "var/x" }),
    );
    expect(r.host("/run/passwd")).toBe("/r/etc/passwd");
    expect(r.host("/etc/up/shadow")).toBe("/r/host/shadow");
    expect(r.host("/v/y")).toBe("/r/var/x/y");
    expect(r.host("/run")).toBe("/r/etc");
  });

  it("stops at fresh mounts and reads links from bind sources", () => {
    const r = new RootfsResolver(
      "/r",
      links({ "/r/dev/pts": "/etc", "/src/sub": "/tmp", "/r/data": "/elsewhere" }),
    );
    r.mounted("/dev", null);
    expect(r.host("/dev/pts")).toBe("/r/dev/pts"); // the image's /dev is hidden by the tmpfs
    r.mounted("/mnt", "/src");
    expect(r.host("/mnt/sub/x")).toBe("/r/tmp/x"); // the link lives in the bind source
    expect(r.host("/data")).toBe("/r/elsewhere");
  });

  it("refuses link loops", () => {
    const r = new RootfsResolver("/r", links({ "/r/a": "/b", "/r/b": "/a" }));
    expect(() => r.resolve("/a/x")).toThrow(
      "config.json: /a/x: too many levels of symbolic links in the rootfs",
    );
  });

  it("keeps an image's hostile links from taking mounts and devices out of the rootfs", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsrun-securejoin-"));
    try {
      const rootfs = join(dir, "rootfs");
      mkdirSync(join(rootfs, "etc"), { recursive: true });
      symlinkSync("/etc", join(rootfs, "run")); // absolute: means the container's /etc
      symlinkSync("../../../../..", join(rootfs, "up"));
      symlinkSync("/tmp", join(rootfs, "dev"));
      expect(readlink(join(rootfs, "run"))).toBe("/etc");
      expect(readlink(join(rootfs, "etc"))).toBeNull();
      const spec = defaultSpec({ terminal: false });
      spec.mounts?.push(
        { destination: "/run/x", type: "tmpfs", source: "tmpfs" },
        { destination: "/up/etc/y", type: "tmpfs", source: "tmpfs" },
      );
      const plan = compilePlan(spec, {
        bundle: dir,
        rootfs,
        noPivot: false,
        consoleSocket: false,
        fifo: false,
        preserveFds: 0,
        host: { kcore: false, cgroup: { version: 2 }, lastCap: 40 },
      });
      const targets = plan
        .filter((o) =>
          [OpCode.Mount, OpCode.MkdirAll, OpCode.Mknod, OpCode.Symlink, OpCode.Touch].includes(o.code),
        )
        .map((o) =>
          String(o.code === OpCode.Symlink ? o.args[1] : o.code === OpCode.Mount ? o.args[1] : o.args[0]),
        );
      for (const t of targets) expect(t === "/" || t === rootfs || t.startsWith(`${rootfs}/`), t).toBe(true);
      expect(targets).toContain(`${rootfs}/etc/x`);
      expect(targets).toContain(`${rootfs}/etc/y`);
      expect(targets).toContain(`${rootfs}/tmp/null`); // /dev -> /tmp in the image: the tmpfs went there too
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
