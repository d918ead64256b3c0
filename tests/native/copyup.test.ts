// OP_MOUNT_COPYUP (tmpcopyup): a tmpfs over a directory of the rootfs gets the directory's old content, with
// owners, modes, links and special files, and the walk never follows a link: not an image link in the tree, not
// one at the target itself. The image's directory is left as it was.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { op, type Plan } from "../../packages/libcontainer/src/plan.js";
import { ENV, inRoot, MS_BIND, MS_NODEV, MS_NOSUID, runPlan, useScratch } from "./harness.js";

const scratch = useScratch("tsrun-copyup-");
const freshRootfs = scratch.fresh;

/** Private propagation, the rootfs bound on itself, the resolution root, then `extra` and a shell in the root. */
function plan(rootfs: string, extra: Plan, script: string): Plan {
  return [
    ...inRoot(rootfs),
    ...extra,
    op.pivotRoot(rootfs),
    op.chdir("/"),
    op.exec("/bin/sh", ["sh", "-c", script], ENV),
  ];
}

/** Every entry below `dir` with its type, mode, owner and, for links, target; as the shell inside prints it. */
const LIST =
  "cd /data && find . | sort | while read f; do stat -c '%n %F %a %u:%g' \"$f\"; " +
  '[ -L "$f" ] && echo "  -> $(readlink "$f")"; done; cat ./sub/deep/file; mount | grep " /data "';

describe("tsrun-exec: OP_MOUNT_COPYUP", () => {
  it("fills the tmpfs with the directory's content, links copied as links, and leaves the image alone", async () => {
    const rootfs = freshRootfs("copy");
    const data = join(rootfs, "data");
    mkdirSync(join(data, "sub", "deep"), { recursive: true });
    chmodSync(data, 0o750);
    chmodSync(join(data, "sub"), 0o711);
    chownSync(join(data, "sub"), 1000, 1001);
    writeFileSync(join(data, "sub", "deep", "file"), "deep content\n", { mode: 0o640 });
    chownSync(join(data, "sub", "deep", "file"), 1000, 1000);
    chmodSync(join(data, "sub", "deep", "file"), 0o4640); // after chown, which clears set-id bits
    writeFileSync(join(data, ".hidden"), "");
    // Links that would copy the host (or the whole rootfs) if they were followed.
    symlinkSync("/", join(data, "root-link"));
    symlinkSync("../../../../../../etc", join(data, "up-link"));
    execFileSync("mkfifo", ["-m", "0620", join(data, "fifo")]);
    execFileSync("mknod", ["-m", "0666", join(data, "null"), "c", "1", "3"]);
    const before = readdirSync(data).sort();

    const r = await runPlan(
      plan(
        rootfs,
        [op.mountCopyup("tmpfs", `${rootfs}/data`, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")],
        `${LIST}; echo new > /data/new && echo written`,
      ),
    );
    expect(r.errors).toEqual([]);
    expect(r.init).toEqual({ code: 0, signal: null });
    const lines = r.stdout.split("\n");
    expect(lines).toEqual([
      ". directory 750 0:0",
      "./.hidden regular empty file 644 0:0",
      "./fifo fifo 620 0:0",
      "./null character special file 666 0:0",
      "./root-link symbolic link 777 0:0",
      "  -> /",
      "./sub directory 711 1000:1001",
      "./sub/deep directory 755 0:0",
      "./sub/deep/file regular file 4640 1000:1000",
      "./up-link symbolic link 777 0:0",
      "  -> ../../../../../../etc",
      "deep content",
      expect.stringMatching(/^tmpfs on \/data type tmpfs \(rw,nosuid,nodev,.*size=1024k/),
      "written",
      "",
    ]);
    // The copy went to the tmpfs, which died with the mount namespace: the image is as it was.
    expect(readdirSync(data).sort()).toEqual(before);
    expect(existsSync(join(data, "new"))).toBe(false);
    expect(readFileSync(join(data, "sub", "deep", "file"), "utf8")).toBe("deep content\n");
  });

  it("refuses a target that is a symlink, mounting nothing and copying nothing", async () => {
    const rootfs = freshRootfs("linked");
    const outside = mkdtempSync(join(scratch.top, "outside-"));
    writeFileSync(join(outside, "secret"), "host\n");
    symlinkSync(outside, join(rootfs, "data"));
    const r = await runPlan(
      plan(rootfs, [op.mountCopyup("tmpfs", `${rootfs}/data`, "tmpfs", 0, "")], "echo ran"),
    );
    // O_DIRECTORY | O_NOFOLLOW on a link: the kernel's ENOTDIR.
    expect(r.errors).toEqual([`tmpcopyup ${rootfs}/data: open: Not a directory`]);
    expect(r.stdout).toBe("");
    expect(readdirSync(outside)).toEqual(["secret"]);
  });

  it("refuses a bind or remount: there is no new mount to fill", async () => {
    const rootfs = freshRootfs("bind");
    const r = await runPlan(
      plan(rootfs, [op.mountCopyup("/tmp", `${rootfs}/tmp`, "", MS_BIND, "")], "echo ran"),
    );
    expect(r.errors).toEqual([`plan: mount_copyup ${rootfs}/tmp: flags 0x1000 are not a new mount`]);
    expect(r.stdout).toBe("");
  });
});
