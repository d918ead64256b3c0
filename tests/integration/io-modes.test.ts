// The four I/O modes of run (runc's setupIO), each with its data path, exit status and signals; the terminal
// cases run the runtime inside a real pseudo-terminal.
import { closeSync, existsSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ECHO, getTermios, ICANON, type Termios } from "../../packages/console/src/termios.js";
import { ConsoleSocketServer } from "../../packages/fdpass/src/index.js";
import {
  type Bundle,
  collect,
  inPty,
  makeBundle,
  readMaster,
  rt,
  spawnRt,
  stateOf,
  termWhenReady,
  until,
} from "./helpers.js";

const bundles: Bundle[] = [];
afterEach(() => {
  for (const b of bundles.splice(0)) b.destroy();
});
function bundle(edit?: Parameters<typeof makeBundle>[0]): Bundle {
  const b = makeBundle(edit);
  bundles.push(b);
  return b;
}

describe("pass-through, foreground", () => {
  it("relays stdin to the container and stdout/stderr back, and returns the exit status", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "read x; echo got $x; echo oops >&2; exit 3"];
    });
    const r = await rt(b, ["run", "fg1"], { input: "hello\n" });
    expect(r.stdout).toBe("got hello\n");
    expect(r.stderr).toBe("oops\n");
    expect(r.code).toBe(3);
    expect(stateOf(b, "fg1")).toBeUndefined(); // run deletes the container after it exits
  });

  it("passes EOF on stdin through", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "wc -c"];
    });
    const r = await rt(b, ["run", "fg2"], { input: "12345" });
    expect(r.stdout.trim()).toBe("5");
    expect(r.code).toBe(0);
  });

  it("forwards SIGTERM to the container and exits with its status", async () => {
    const b = bundle((s) => {
      s.process!.args = [
        "sh",
        "-c",
        'trap "echo trapped; exit 7" TERM; echo ready; while :; do sleep 0.05; done',
      ];
    });
    const r = await termWhenReady(b, ["run", "fg3"]);
    expect(r.stdout).toContain("trapped");
    expect(r.code).toBe(7);
  });

  it("holds a signal that comes during create and passes it on once the program runs, leaving nothing", async () => {
    const b = bundle((s) => {
      // pid 1 of a pid namespace ignores a signal it has no handler for: the held SIGTERM changes nothing.
      s.process!.args = ["sh", "-c", "sleep 0.5; echo done"];
    });
    const started = join(b.dir, "hook-started");
    b.spec.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${started}; sleep 1`] }] };
    b.write();
    const child = spawnRt(b, ["run", "fg9"], ["ignore", "pipe", "pipe"]);
    const result = collect(child);
    await until("the hook to start", () => existsSync(started));
    child.kill("SIGTERM");
    const r = await result;
    expect([r.signal, r.code, r.stderr, r.stdout]).toEqual([null, 0, "", "done\n"]);
    expect(readdirSync(b.root)).toEqual([]);
  });

  it("returns 128+n when the container is killed by signal n", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "kill -9 $$"];
    });
    // pid 1 cannot be killed by itself with a signal it has no handler for: use a child shell.
    b.spec.process!.args = ["sh", "-c", "sh -c 'kill -9 $$'; exit $?"];
    b.write();
    const r = await rt(b, ["run", "fg4"]);
    expect(r.code).toBe(137);
  });

  it("sees no fds but 0, 1, 2 inside, even when the runtime inherited more", async () => {
    const b = bundle((s) => {
      s.process!.args = ["ls", "/proc/self/fd"];
    });
    const extra = openSync("/etc/hostname", "r");
    try {
      const r = await rt(b, ["run", "fg5"], { stdio: ["pipe", "pipe", "pipe", "ignore", extra, extra] });
      expect(r.code).toBe(0);
      // 3 is ls's own directory fd.
      expect(r.stdout.split("\n").filter(Boolean)).toEqual(["0", "1", "2", "3"]);
    } finally {
      closeSync(extra);
    }
  });
});

describe("pass-through, detached", () => {
  it("leaves the container with the runtime's own fds 0-2", async () => {
    const b = bundle((s) => {
      s.process!.args = ["sh", "-c", "sleep 0.3; echo from-detached; echo err-detached >&2"];
    });
    // The container keeps writing to our pipes after the runtime has exited; close comes when both are done.
    const r = await rt(b, ["run", "-d", "det1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("from-detached\n");
    expect(r.stderr).toBe("err-detached\n");
  });
});

describe("new terminal, foreground", () => {
  it("runs in a pty of the caller's size, relays both ways, keeps ONLCR single, returns the status", async () => {
    const b = bundle((s) => {
      s.process!.terminal = true;
      s.process!.args = ["sh", "-c", "stty size; tty; read line; echo got:$line; exit 4"];
    });
    const r = await inPty(b, ["run", "tty1"], { rows: 33, cols: 111, input: "typed\r" });
    const text = r.out;
    expect(text).toContain("33 111\r\n");
    expect(text).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(text).toContain("got:typed\r\n");
    // ONLCR cleared on the container's pty: the host's pty adds the one \r, never two.
    expect(text).not.toContain("\r\r\n");
    expect(r.code).toBe(4);
  });

  it("drains 2 MB of output completely", async () => {
    const size = 2_000_000;
    const b = bundle((s) => {
      s.process!.terminal = true;
      s.process!.args = ["sh", "-c", `head -c ${size} /dev/zero | tr '\\0' a`];
    });
    const r = await inPty(b, ["run", "tty2"]);
    expect(r.code).toBe(0);
    expect(r.out.split("a").length - 1).toBe(size);
  });

  it("restores the host terminal and follows a resize", async () => {
    const b = bundle((s) => {
      s.process!.terminal = true;
      s.process!.args = ["sh", "-c", "stty size; read x; stty size"];
    });
    let sizeBefore: unknown;
    let during: Termios | undefined;
    const r = await inPty(b, ["run", "tty3"], {
      rows: 20,
      cols: 70,
      during: async (pid, master, slave, output) => {
        // The first `stty size` has run: the container is up and reading.
        await until("the first stty size", () => output().includes("20 70"), 10_000);
        sizeBefore = master.size();
        during = getTermios(slave);
        master.resize({ rows: 44, cols: 132 });
        process.kill(pid, "SIGWINCH");
        await new Promise((res) => setTimeout(res, 200));
        const { writeSync } = await import("node:fs");
        writeSync(master.fd, "go\r");
      },
    });
    const text = r.out;
    expect(sizeBefore).toEqual({ rows: 20, cols: 70, xpixel: 0, ypixel: 0 });
    // Raw while the container runs, exactly as before once the runtime is gone.
    expect(r.termiosBefore.lflag & (ICANON | ECHO)).toBe(ICANON | ECHO);
    expect(during!.lflag & (ICANON | ECHO)).toBe(0);
    expect(r.termiosAfter).toEqual(r.termiosBefore);
    expect(text).toContain("20 70\r\n");
    expect(text).toContain("44 132\r\n");
    expect(r.code).toBe(0);
  });
});

describe("new terminal, detached", () => {
  it("sends the master to --console-socket, and it works after the runtime exited", async () => {
    const b = bundle((s) => {
      s.process!.terminal = true;
      s.process!.args = ["sh"];
    });
    const server = ConsoleSocketServer.listen(join(b.dir, "console.sock"));
    try {
      const accepted = server.accept();
      const r = await rt(b, ["run", "-d", "--console-socket", server.path, "ttyd"]);
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).toBe("");
      const m = await accepted;
      // runc 1.1 sends "/dev/ptmx", later runc and tsrun the slave's path.
      expect(m.name).toMatch(/^\/dev\/(pts\/\d+|ptmx)$/);
      expect(stateOf(b, "ttyd")?.status).toBe("running");
      const { writeSync } = await import("node:fs");
      writeSync(m.fd, "echo hi-$((6*7)); exit\n");
      const text = readMaster(m.fd, (t) => t.includes("hi-42"));
      closeSync(m.fd);
      expect(text).toContain("hi-42");
    } finally {
      server.close();
    }
  });

  it("refuses a terminal with detach but no console socket, and a console socket without a terminal", async () => {
    const b = bundle((s) => {
      s.process!.terminal = true;
    });
    const r1 = await rt(b, ["run", "-d", "bad1"]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/cannot allocate tty if \w+ will detach without setting console socket/);
    b.spec.process!.terminal = false;
    b.write();
    const r2 = await rt(b, ["run", "-d", "--console-socket", join(b.dir, "x.sock"), "bad2"]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/cannot use console socket if \w+ will not detach or allocate tty/);
    expect(stateOf(b, "bad1")).toBeUndefined();
    expect(stateOf(b, "bad2")).toBeUndefined();
  });
});
