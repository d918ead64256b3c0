// docs/kubernetes.md's containerd handler config, taken from the doc itself: containerd 1.6 with CRI enabled loads
// it, and a container runs through the runc v2 shim with the handler's options (BinaryName, Root).
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Containerd, startContainerd } from "./containerd.js";
import {
  cgroupsUnder,
  E2E,
  makeRootfs,
  RUNTIME,
  removeCgroups,
  run,
  stateEntries,
  sweep,
  tempBase,
} from "./helpers.js";

const T = 60_000;
const DOC = fileURLToPath(new URL("../../docs/kubernetes.md", import.meta.url));

/** The TOML block between the containerd-handler markers of docs/kubernetes.md. */
function handlerSnippet(): string {
  const doc = readFileSync(DOC, "utf8");
  const m = doc.match(
    /<!-- containerd-handler:begin -->\s*```toml\n([\s\S]*?)```\s*<!-- containerd-handler:end -->/,
  );
  if (!m?.[1]) throw new Error("docs/kubernetes.md: no containerd-handler block");
  return m[1];
}

describe.skipIf(!E2E)(`kubernetes RuntimeClass handler with ${RUNTIME}`, () => {
  let base: string;
  let rootfs: string;
  let cd: Containerd;
  let handlerRoot: string;
  const id = "e2e-k8s-handler";

  beforeAll(async () => {
    base = tempBase("k8s");
    rootfs = makeRootfs(join(base, "rootfs"));
    handlerRoot = join(base, "handler-root");
    const snippet = handlerSnippet();
    expect(snippet).toContain('BinaryName = "/usr/local/bin/tsrun"');
    const config = snippet
      .replace('BinaryName = "/usr/local/bin/tsrun"', `BinaryName = "${RUNTIME}"`)
      .replace('Root = "/run/containerd/tsrun"', `Root = "${handlerRoot}"`);
    // Keep the CRI plugin's own side effects (CNI config watch, streaming server) inside the temp dir.
    const cri = `[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.grpc.v1.cri".cni]
  conf_dir = "${join(base, "cni/net.d")}"
  bin_dir = "${join(base, "cni/bin")}"
`;
    cd = await startContainerd(base, { disableCri: false, extraConfig: `${cri}${config}` });
  }, T);

  afterAll(async () => {
    if (!cd) return;
    await cd.remove(id);
    await cd.stop();
    const { procs, mounts } = await sweep(base, `/${cd.ns}/`);
    const state = stateEntries(join(handlerRoot, cd.ns), () => true);
    const cgroups = cgroupsUnder(`/${cd.ns}`).filter((d) => !d.endsWith(`/${cd.ns}`));
    removeCgroups(`/${cd.ns}`);
    rmSync(base, { recursive: true, force: true });
    expect({ procs, mounts, state, cgroups }).toEqual({ procs: [], mounts: [], state: [], cgroups: [] });
  }, T);

  it(
    "containerd loads the handler config with CRI enabled",
    async () => {
      const plugins = await cd.ctr(["plugins", "ls"]);
      expect(plugins.stdout).toMatch(/io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/);
      const dump = await run("containerd", ["--config", join(base, "config.toml"), "config", "dump"]);
      expect(dump.code, dump.all).toBe(0);
      const section = dump.stdout.slice(dump.stdout.indexOf(".containerd.runtimes.tsrun]"));
      expect(section).toMatch(/runtime_type = "io\.containerd\.runc\.v2"/);
      expect(section).toContain(`BinaryName = "${RUNTIME}"`);
      expect(section).toContain(`Root = "${handlerRoot}"`);
      // The CRI plugin prints the config it runs with; the handler must be in it, with its options.
      expect(cd.log()).toMatch(
        new RegExp(`tsrun:\\{Type:io\\.containerd\\.runc\\.v2 .*BinaryName:${RUNTIME}`),
      );
    },
    T,
  );

  it(
    "a container runs through the runc v2 shim with the handler's options",
    async () => {
      const dump = (await run("containerd", ["--config", join(base, "config.toml"), "config", "dump"]))
        .stdout;
      const section = dump.slice(dump.indexOf(".containerd.runtimes.tsrun]"));
      const binary = section.match(/BinaryName = "([^"]+)"/)?.[1] ?? "";
      const root = section.match(/Root = "([^"]+)"/)?.[1] ?? "";
      const r = await cd.ctr(
        [
          "run",
          "--rm",
          "--runtime",
          "io.containerd.runc.v2",
          "--runc-binary",
          binary,
          "--runc-root",
          root,
          "--env",
          "PATH=/bin",
          "--rootfs",
          rootfs,
          id,
          "sh",
          "-c",
          // The pause before exit: see PAUSE in containerd.test.ts (ctr can lose the last output).
          "echo hello from the handler; sleep 0.2; exit 3",
        ],
        { timeout: 30_000 },
      );
      expect({ code: r.code, out: r.all }).toEqual({ code: 3, out: "hello from the handler\n" });
      // The shim ran our binary with --root <Root>/<namespace>: the runtime created its state there.
      expect(stateEntries(root, () => true)).toEqual([join(root, cd.ns)]);
    },
    T,
  );
});
