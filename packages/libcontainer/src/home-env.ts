// runc's setupUser: a process whose env has no HOME gets the home directory of its uid from the container's
// /etc/passwd, or "/" when the uid has no entry. containerd's `--rootfs` containers have no env at all.

/** The home field of the first /etc/passwd line for `uid`, if any. */
export function passwdHome(passwd: string | undefined, uid: number): string | undefined {
  for (const line of (passwd ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 7 && f[2] === String(uid) && f[5]) return f[5];
  }
  return undefined;
}

/** `env` with HOME added when it has none; `home` is only asked for then. */
export function withHome(env: readonly string[], home: () => string): string[] {
  return env.some((e) => e.startsWith("HOME=")) ? [...env] : [...env, `HOME=${home()}`];
}
