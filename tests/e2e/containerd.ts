// An isolated containerd for the e2e suite: its own root, state, sockets and config under a temp dir, CRI disabled
// unless a case asks for it, and `runc` on its PATH replaced by a logging wrapper around the runtime under test,
// because `ctr run --no-pivot` and `ctr container create` + `ctr task start` ignore --runc-binary and make the
// shim run the `runc` it finds on PATH.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENV, type Result, RUNTIME, type RunOpts, run, until } from "./helpers.js";

export interface Containerd {
  base: string;
  sock: string;
  ns: string;
  /** Where the runc v2 shim keeps the runtime's state for our namespace (it passes `--root` this). */
  shimRoot: string;
  /** Every call the shim made to `runc` from PATH, one line of arguments each. */
  pathRuncLog: string;
  proc: ChildProcess;
  ctr(args: string[], opts?: RunOpts): Promise<Result>;
  /** Removes a container whatever state it is in: task killed and deleted, container and snapshot removed. */
  remove(id: string): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

export async function startContainerd(
  base: string,
  opts: { extraConfig?: string; disableCri?: boolean } = {},
) {
  const bin = join(base, "bin");
  mkdirSync(bin, { recursive: true });
  const pathRuncLog = join(base, "path-runc.log");
  writeFileSync(pathRuncLog, "");
  writeFileSync(
    join(bin, "runc"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> ${pathRuncLog}\nexec ${RUNTIME} "$@"\n`,
  );
  chmodSync(join(bin, "runc"), 0o755);
  const sock = join(base, "containerd.sock");
  const config = join(base, "config.toml");
  const disabled = opts.disableCri === false ? "[]" : '["io.containerd.grpc.v1.cri"]';
  writeFileSync(
    config,
    `version = 2
root = "${join(base, "root")}"
state = "${join(base, "state")}"
disabled_plugins = ${disabled}
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[debug]
  address = "${join(base, "debug.sock")}"
  level = "debug"
[metrics]
  address = ""
${opts.extraConfig ?? ""}
`,
  );
  const logFile = join(base, "containerd.log");
  const logFd = openSync(logFile, "a");
  const proc = spawn("containerd", ["--config", config], {
    env: { PATH: `${bin}:${ENV.PATH}` },
    stdio: ["ignore", logFd, logFd],
    detached: true,
  });
  const ns = `tsrun-e2e-${process.pid}`;
  const ctr = (args: string[], o: RunOpts = {}) =>
    run("ctr", ["--address", sock, "--namespace", ns, ...args], o);
  let exited = false;
  proc.on("exit", () => {
    exited = true;
  });
  await until(
    "containerd's socket",
    async () => {
      if (exited) throw new Error(`containerd exited:\n${readFileSync(logFile, "utf8")}`);
      return existsSync(sock) && (await ctr(["version"])).code === 0;
    },
    20_000,
  );
  const c: Containerd = {
    base,
    sock,
    ns,
    shimRoot: `/run/containerd/runc/${ns}`,
    pathRuncLog,
    proc,
    ctr,
    async remove(id) {
      await ctr(["task", "kill", "--all", "--signal", "SIGKILL", id], { timeout: 10_000 }).catch(() => {});
      await ctr(["task", "delete", "--force", id], { timeout: 15_000 }).catch(() => {});
      await ctr(["container", "delete", id], { timeout: 10_000 }).catch(() => {});
      await ctr(["snapshot", "rm", id], { timeout: 10_000 }).catch(() => {});
    },
    async stop() {
      if (exited) return;
      const gone = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (!exited) proc.kill("SIGKILL");
    },
    log: () => readFileSync(logFile, "utf8"),
  };
  return c;
}

/**
 * A docker-archive image of the rootfs (one layer, PATH set, sh as command), for `ctr image import`.
 * Built with tar and no registry.
 */
export async function makeImageArchive(rootfs: string, dir: string, ref: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  mkdirSync(dir, { recursive: true });
  const layer = join(dir, "layer.tar");
  const tar = await run("tar", ["-C", rootfs, "-cf", layer, "."]);
  if (tar.code !== 0) throw new Error(`tar: ${tar.all}`);
  const diffId = `sha256:${createHash("sha256").update(readFileSync(layer)).digest("hex")}`;
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created_by: "tsrun e2e" }],
  });
  const configName = `${createHash("sha256").update(config).digest("hex")}.json`;
  writeFileSync(join(dir, configName), config);
  writeFileSync(
    join(dir, "manifest.json"),
    JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: ["layer.tar"] }]),
  );
  const archive = join(dir, "..", "image.tar");
  const pack = await run("tar", ["-C", dir, "-cf", archive, "manifest.json", configName, "layer.tar"]);
  if (pack.code !== 0) throw new Error(`tar: ${pack.all}`);
  return archive;
}
