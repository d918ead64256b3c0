// Bad input: a non-zero exit, one clear error line (with the words clients match on, clients.md), and nothing
// left behind: no state dir, no mount, no process.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Spec } from "../../packages/libcontainer/src/index.js";
import { type Bundle, IS_RUNC, type Result, rtq, useBundles } from "./helpers.js";

const { bundle } = useBundles();

/** The runtime failed with exactly one error line on stderr (logrus text without --log) and kept no state. */
function failedCleanly(b: Bundle, r: Result): string {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^time="[^"]+" level=error msg=".+"$/);
  expect(existsSync(b.root) ? readdirSync(b.root) : []).toEqual([]);
  return lines[0]!;
}

describe("refused before anything starts", () => {
  for (const id of ["../x", "a/b", ".."]) {
    it(`refuses the id ${JSON.stringify(id)}`, async () => {
      const b = bundle();
      const line = failedCleanly(b, await rtq(b, ["create", id]));
      expect(line).toContain("invalid container ID format");
      // Nothing was made next to the state root either.
      expect(readdirSync(b.dir).filter((e) => e !== "state")).toEqual(["config.json", "rootfs"].sort());
    });
  }

  it("refuses a config.json with a syntax error", async () => {
    const b = bundle();
    writeFileSync(join(b.dir, "config.json"), '{"ociVersion": "1.0.2", "process": {');
    failedCleanly(b, await rtq(b, ["create", "c1"]));
  });

  it("refuses a missing config.json", async () => {
    const b = bundle();
    rmSync(join(b.dir, "config.json"));
    const line = failedCleanly(b, await rtq(b, ["create", "c1"]));
    expect(line).toContain("config.json");
    expect(line).toContain("not found");
  });

  it("refuses a missing bundle dir", async () => {
    const b = bundle();
    const missing = join(b.dir, "nope");
    const line = failedCleanly(b, await rtq(b, ["create", "--bundle", missing, "c1"]));
    expect(line).toContain(`${missing}: no such file or directory`);
  });

  it("refuses a missing rootfs", async () => {
    const b = bundle();
    renameSync(join(b.dir, "rootfs"), join(b.dir, "elsewhere"));
    const line = failedCleanly(b, await rtq(b, ["create", "c1"]));
    expect(line).toContain(join(b.dir, "rootfs"));
    expect(line).toContain("no such file or directory");
  });

  it.skipIf(IS_RUNC)("refuses an unsupported spec field, naming it (runc implements intelRdt)", async () => {
    const b = bundle((s) => {
      (s.linux as Record<string, unknown>).intelRdt = { closID: "it" };
    });
    const line = failedCleanly(b, await rtq(b, ["create", "c1"]));
    expect(line).toContain("linux.intelRdt");
  });

  // The init waits for start by reopening exec.fifo through /proc/self/fd; without a procfs there it used to
  // fail after create had returned 0, leaving a stopped container (runc fails inside create as well).
  for (const [what, edit] of [
    ["no proc mount", (s: Spec) => s.mounts!.filter((m) => m.type !== "proc")],
    [
      "proc mounted elsewhere",
      (s: Spec) => s.mounts!.map((m) => (m.type === "proc" ? { ...m, destination: "/p" } : m)),
    ],
  ] as const) {
    it(`refuses a config with ${what}, in create and run`, async () => {
      const b = bundle((s) => {
        s.mounts = edit(s);
      });
      for (const cmd of ["create", "run"]) {
        const line = failedCleanly(b, await rtq(b, [cmd, "c1"]));
        if (!IS_RUNC) expect(line).toContain("config.json: mounts: tsrun needs a proc mount at /proc");
      }
    });
  }
});

describe("refused after init started", () => {
  it("reports a missing program by absolute path with 'no such file or directory'", async () => {
    const b = bundle((s) => {
      s.process!.args = ["/nope"];
    });
    const line = failedCleanly(b, await rtq(b, ["create", "c1"]));
    expect(line).toContain('exec: \\"/nope\\": stat /nope: no such file or directory');
  });

  it("reports a program missing from PATH with 'executable file not found'", async () => {
    const b = bundle((s) => {
      s.process!.args = ["nope"];
    });
    const line = failedCleanly(b, await rtq(b, ["create", "c1"]));
    expect(line).toContain('exec: \\"nope\\": executable file not found in $PATH');
    // run says the same and deletes what it made.
    const r2 = await rtq(b, ["run", "c2"]);
    const line2 = failedCleanly(b, r2);
    expect(line2).toContain("executable file not found in $PATH");
  });

  it("refuses a console socket nobody listens on", async () => {
    const b = bundle((s) => {
      s.process!.terminal = true;
    });
    const dead = join(b.dir, "dead.sock");
    let line = failedCleanly(b, await rtq(b, ["create", "--console-socket", dead, "c1"]));
    expect(line).toContain(dead);
    // The words podman maps to exit 127 (clients.md).
    expect(line).toMatch(/no such file or directory/);
    // A file that is not a listening socket.
    writeFileSync(dead, "");
    line = failedCleanly(b, await rtq(b, ["create", "--console-socket", dead, "c1"]));
    expect(line).toContain(dead);
  });

  it("reports a masked /proc/self/fd (the exec.fifo reopen path) from create, not from the init after it", async () => {
    const b = bundle((s) => {
      s.linux!.maskedPaths = [...(s.linux!.maskedPaths ?? []), "/proc/self/fd"];
    });
    const line = failedCleanly(b, await rtq(b, ["create", "c1"]));
    if (!IS_RUNC) expect(line).toMatch(/reopen exec fifo through the container's \/proc\/self\/fd\/\d+: /);
  });

  // The init closes its channel when the OOM killer takes it, as when it reaches the exec.fifo wait: create used to
  // return 0 for a container that was already dead. (runc's larger init fails the limit's write instead.)
  it("reports an init killed for memory during create (a limit of one page), in create and run", async () => {
    const b = bundle((s) => {
      s.linux!.resources = { memory: { limit: 4096 } };
    });
    for (const cmd of ["create", "run"]) {
      const line = failedCleanly(b, await rtq(b, [cmd, "c1"]));
      if (!IS_RUNC)
        expect(line).toContain(
          "container init was killed by SIGKILL during create (out of memory: linux.resources.memory.limit is too low)",
        );
    }
  });

  it("refuses an unwritable pid file and leaves no container", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sleep", "100"];
    });
    const r = await rtq(b, ["create", "--pid-file", join(b.dir, "no/such/dir/pid"), "c1"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no such file or directory");
    expect(existsSync(b.root) ? readdirSync(b.root) : []).toEqual([]);
  });
});

describe("--log FILE --log-format json", () => {
  it("writes exactly one JSON error line on failure and the bare message on stderr", async () => {
    const b = bundle((s) => {
      s.process!.args = ["nope"];
    });
    const log = join(b.dir, "oci-log");
    const r = await rtq(b, ["create", "c1"], {
      global: ["--root", b.root, "--log", log, "--log-format", "json"],
    });
    expect(r.code).not.toBe(0);
    const lines = readFileSync(log, "utf8").split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe("");
    const entry = JSON.parse(lines[0]!);
    expect(Object.keys(entry).sort()).toEqual(["level", "msg", "time"]);
    expect(entry.level).toBe("error");
    expect(entry.msg).toContain("executable file not found in $PATH");
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(r.stderr).toBe(`${entry.msg}\n`);
    expect(existsSync(b.root) ? readdirSync(b.root) : []).toEqual([]);
  });

  it("keeps the file empty on success", async () => {
    const b = bundle((s) => {
      s.process!.args = ["true"];
    });
    const log = join(b.dir, "oci-log");
    const g = ["--root", b.root, "--log", log, "--log-format", "json"];
    for (const args of [
      ["create", "c1"],
      ["start", "c1"],
      ["delete", "--force", "c1"],
      ["delete", "--force", "c1"],
    ]) {
      const r = await rtq(b, args, { global: g });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      // runc creates the file at start-up; a client reading it finds nothing either way.
      expect(existsSync(log) ? readFileSync(log, "utf8") : "").toBe("");
    }
  });

  it("appends one line per failure, each a JSON object", async () => {
    const b = bundle();
    const log = join(b.dir, "oci-log");
    const g = ["--root", b.root, "--log", log, "--log-format", "json"];
    expect((await rtq(b, ["kill", "nope", "9"], { global: g })).code).not.toBe(0);
    expect((await rtq(b, ["state", "nope"], { global: g })).code).not.toBe(0);
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    for (const l of lines)
      expect(JSON.parse(l)).toMatchObject({ level: "error", msg: expect.stringContaining("does not exist") });
  });

  it("without --log, writes the JSON line to stderr", async () => {
    const b = bundle();
    const r = await rtq(b, ["kill", "nope", "9"], { global: ["--root", b.root, "--log-format", "json"] });
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "error", msg: "container does not exist" });
  });
});
