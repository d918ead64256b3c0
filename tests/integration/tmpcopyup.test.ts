// The tmpcopyup mount option (podman puts it on every --tmpfs and on the tmpfs mounts of --read-only): the tmpfs
// starts with the content of the directory it covers, links copied as links, and writes go to the tmpfs only.
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rt, useBundles } from "./helpers.js";

const { bundle } = useBundles();

describe("tmpcopyup", () => {
  it("shows /etc/passwd in a tmpfs over /etc, and keeps writes out of the image", async () => {
    const b = bundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        [
          "grep -c ^root: /etc/passwd",
          "mount | grep ' /etc ' | cut -d' ' -f1-5",
          "echo new > /etc/new && cat /etc/new",
          "readlink /etc/escape",
          "stat -c '%a %u:%g' /etc/private /etc",
        ].join("; "),
      ];
      s.mounts!.push({
        destination: "/etc",
        type: "tmpfs",
        source: "tmpfs",
        options: ["rw", "nosuid", "nodev", "tmpcopyup", "size=1m"],
      });
    });
    const etc = join(b.dir, "rootfs/etc");
    const passwd = readFileSync(join(etc, "passwd"), "utf8");
    // A link out of the rootfs is copied as a link, never followed onto the host's /.
    symlinkSync("/", join(etc, "escape"));
    mkdirSync(join(etc, "private"), { mode: 0o700 });
    chmodSync(etc, 0o751);
    const r = await rt(b, ["run", "copyup"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("1\ntmpfs on /etc type tmpfs\nnew\n/\n700 0:0\n751 0:0\n");
    expect(existsSync(join(etc, "new"))).toBe(false);
    expect(readFileSync(join(etc, "passwd"), "utf8")).toBe(passwd);
  });

  it("fills a read-only tmpfs before making it read-only, on a read-only root (podman --read-only)", async () => {
    const b = bundle((s) => {
      s.root!.readonly = true;
      s.process!.args = [
        "sh",
        "-c",
        "cat /etc/hostname; (touch /etc/x 2>/dev/null && echo etc-rw) || echo etc-ro; " +
          "touch /tmp/x && echo tmp-rw; (touch /y 2>/dev/null && echo root-rw) || echo root-ro",
      ];
      s.mounts!.push(
        { destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["ro", "tmpcopyup"] },
        { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["rw", "nosuid", "tmpcopyup"] },
      );
    });
    const hostname = readFileSync(join(b.dir, "rootfs/etc/hostname"), "utf8");
    const r = await rt(b, ["run", "copyup-ro"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${hostname}etc-ro\ntmp-rw\nroot-ro\n`);
  });
});
