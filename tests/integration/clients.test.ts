// What containerd's shim and conmon rely on (../shared/clients.md): init as a direct child of the calling
// subreaper, kill/delete/state without PATH, decimal signals, a bounded delete --force.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alive, RUNTIME, rtq, stateJson, until, useBundles } from "./helpers.js";

const { bundle, track } = useBundles();

// A child subreaper, as the shim and conmon are, which runs `create` and reports its own pid and init's ppid.
const SUBREAPER = `
import ctypes, json, os, subprocess, sys, tempfile
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
rt, root, bundle, cid, pidfile = sys.argv[1:6]
# A file, not a pipe: init inherits it and keeps it open.
err = tempfile.TemporaryFile()
p = subprocess.run([rt, "--root", root, "create", "--bundle", bundle, "--pid-file", pidfile, cid],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                   env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
err.seek(0)
pid = int(open(pidfile).read())
ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
print(json.dumps({"code": p.returncode, "stderr": err.read().decode(), "me": os.getpid(), "pid": pid, "ppid": ppid}))
`;

describe("clients", () => {
  it("leaves init as a direct child of the subreaper that ran create", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sleep", "100"];
    });
    const out = JSON.parse(
      execFileSync("python3", [
        "-c",
        SUBREAPER,
        RUNTIME,
        b.root,
        b.dir,
        "sr1",
        join(b.dir, "init.pid"),
      ]).toString(),
    );
    track(out.pid);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.ppid).toBe(out.me);
    expect((await rtq(b, ["delete", "--force", "sr1"])).code).toBe(0);
  });

  it("runs state, start, kill and delete with no PATH at all (podman passes only XDG_RUNTIME_DIR=)", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sleep", "100"];
    });
    expect((await rtq(b, ["create", "np1"])).code).toBe(0);
    const pid = track((await stateJson(b, "np1")).pid as number);
    // Output to a file: the container inherits the runtime's stdio.
    const out = join(b.dir, "bare.out");
    const bare = (args: string[]) => {
      const fd = openSync(out, "w+");
      try {
        execFileSync(RUNTIME, ["--root", b.root, ...args], {
          env: { XDG_RUNTIME_DIR: "" },
          stdio: ["ignore", fd, fd],
        });
      } finally {
        closeSync(fd);
      }
      return readFileSync(out, "utf8");
    };
    expect(JSON.parse(bare(["state", "np1"])).status).toBe("created");
    expect(bare(["start", "np1"])).toBe("");
    expect(JSON.parse(bare(["state", "np1"])).status).toBe("running");
    expect(bare(["kill", "np1", "9"])).toBe("");
    await until("terminated", () => !alive(pid));
    expect(bare(["delete", "np1"])).toBe("");
    expect(bare(["delete", "--force", "np1"])).toBe("");
  });

  it("delete --force stops an init that ignores SIGTERM within containerd's 5 s", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "trap '' TERM INT HUP; while :; do sleep 0.05; done"];
    });
    expect((await rtq(b, ["create", "df1"])).code).toBe(0);
    const pid = track((await stateJson(b, "df1")).pid as number);
    expect((await rtq(b, ["start", "df1"])).code).toBe(0);
    const t0 = Date.now();
    const r = await rtq(b, ["delete", "--force", "df1"]);
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(alive(pid)).toBe(false);
  });

  it("kill --all signals every process of a running container", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "trap '' TERM; sleep 100 & sleep 100 & wait"];
    });
    expect((await rtq(b, ["create", "ka1"])).code).toBe(0);
    const pid = track((await stateJson(b, "ka1")).pid as number);
    expect((await rtq(b, ["start", "ka1"])).code).toBe(0);
    const procs = join("/sys/fs/cgroup/pids", b.spec.linux!.cgroupsPath!, "cgroup.procs");
    await until("children", () => readFileSync(procs, "utf8").trim().split("\n").length === 3);
    const all = readFileSync(procs, "utf8").trim().split("\n").map(Number);
    for (const p of all) track(p);
    const r = await rtq(b, ["kill", "--all", "ka1", "9"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await until("all gone", () => !all.some(alive));
    expect(all).toContain(pid);
    expect((await rtq(b, ["delete", "ka1"])).code).toBe(0);
  });

  it("podman's run -it flow: kill 28 right after start is harmless", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sleep", "100"];
    });
    expect((await rtq(b, ["create", "pw1"])).code).toBe(0);
    const pid = track((await stateJson(b, "pw1")).pid as number);
    expect((await rtq(b, ["start", "pw1"])).code).toBe(0);
    expect((await rtq(b, ["kill", "pw1", "28"])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(true);
    expect((await stateJson(b, "pw1")).status).toBe("running");
    expect((await rtq(b, ["delete", "--force", "pw1"])).code).toBe(0);
  });

  it("without a pid namespace, kill --all reaches processes that outlive init, and delete --force leaves none", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "sleep 100 & sleep 100 & echo started > /dev/shm/x; wait"];
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
    });
    expect((await rtq(b, ["create", "hp1"])).code).toBe(0);
    const pid = track((await stateJson(b, "hp1")).pid as number);
    expect((await rtq(b, ["start", "hp1"])).code).toBe(0);
    const procs = join("/sys/fs/cgroup/pids", b.spec.linux!.cgroupsPath!, "cgroup.procs");
    const members = () => readFileSync(procs, "utf8").trim().split("\n").filter(Boolean).map(Number);
    await until("children", () => members().length === 3);
    const all = members();
    for (const p of all) track(p);
    // init dies alone: its children stay, in the host's pid namespace.
    process.kill(pid, "SIGKILL");
    await until("init gone", () => !alive(pid));
    expect(all.filter(alive)).toHaveLength(2);
    expect((await stateJson(b, "hp1")).status).toBe("stopped");
    const r = await rtq(b, ["kill", "--all", "hp1", "9"]);
    expect(r.code).toBe(0);
    await until("all gone", () => !all.some(alive));
    expect((await rtq(b, ["delete", "hp1"])).code).toBe(0);

    // delete --force of a running container without a pid namespace kills every member of its cgroup.
    const b2 = bundle((s) => {
      s.process!.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"];
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
    });
    expect((await rtq(b2, ["run", "-d", "hp2"])).code).toBe(0);
    const procs2 = join("/sys/fs/cgroup/pids", b2.spec.linux!.cgroupsPath!, "cgroup.procs");
    await until("children", () => readFileSync(procs2, "utf8").trim().split("\n").length === 3);
    const all2 = readFileSync(procs2, "utf8").trim().split("\n").map(Number);
    for (const p of all2) track(p);
    const d = await rtq(b2, ["delete", "--force", "hp2"]);
    expect(d.code).toBe(0);
    await until("all gone", () => !all2.some(alive), 2000);
  });
});
