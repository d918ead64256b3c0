// The session keyring (runc's default): a container gets one of its own, named _ses.<id>, instead of sharing the
// session keyring of whoever ran the runtime; `exec` joins the container's; --no-new-keyring keeps the caller's.
// /proc/keys lists the keyrings a process possesses or may view (root in the container views those of other
// containers too, so the tests look for their own names); runc's default spec masks it, so these bundles unmask it.
import { describe, expect, it } from "vitest";
import { rt, rtq, useBundles } from "./helpers.js";

const { bundle } = useBundles();

function keysBundle(args: string[]) {
  return bundle((s) => {
    s.process!.args = args;
    s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== "/proc/keys");
  });
}

/** The names of the session keyrings in a /proc/keys listing. */
const sessions = (keys: string) =>
  keys
    .split("\n")
    .map((l) => /keyring\s+(_(?:uid_)?ses[^:]*):/.exec(l)?.[1])
    .filter((n) => n !== undefined);

describe("session keyring", () => {
  it("gives the container a keyring of its own, searchable by its user, and exec joins it", async () => {
    const b = keysBundle(["sleep", "30"]);
    const r = await rtq(b, ["run", "-d", "kr1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const e = await rt(b, ["exec", "kr1", "cat", "/proc/keys"]);
    expect(e.code).toBe(0);
    expect(sessions(e.stdout)).toContain("_ses.kr1");
    // possessor: all; user: view, read, search, link (runc's 3f1b0000)
    expect(e.stdout).toMatch(/ perm 3f1b0000 .*keyring\s+_ses\.kr1:/);
    expect((await rtq(b, ["delete", "--force", "kr1"])).code).toBe(0);
  });

  it("runs in its own keyring in the foreground too, and keeps the caller's with --no-new-keyring", async () => {
    const b = keysBundle(["cat", "/proc/keys"]);
    const own = await rt(b, ["run", "kr2"]);
    expect(own.code).toBe(0);
    expect(sessions(own.stdout)).toContain("_ses.kr2");
    const kept = await rt(b, ["run", "--no-new-keyring", "kr3"]);
    expect(kept.code).toBe(0);
    expect(sessions(kept.stdout)).not.toContain("_ses.kr3");
  });

  it("keeps exec in the caller's keyring for a container made with --no-new-keyring", async () => {
    const b = keysBundle(["sleep", "30"]);
    expect((await rtq(b, ["run", "-d", "--no-new-keyring", "kr4"])).code).toBe(0);
    const e = await rt(b, ["exec", "kr4", "cat", "/proc/keys"]);
    expect(e.code).toBe(0);
    expect(sessions(e.stdout)).not.toContain("_ses.kr4");
    expect((await rtq(b, ["delete", "--force", "kr4"])).code).toBe(0);
  });
});
