// Hooks that run in tsrun's own namespaces (prestart, createRuntime, poststart, poststop). The ones that run
// inside the container (createContainer, startContainer) are plan ops executed by the init.
import { childProcess } from "./child-process.js";
import { ContainerError } from "./container-error.js";
import type { Hook } from "./spec.js";

/** Runs each hook in order with the container state on stdin; the first failure stops the rest. */
export async function runHooks(
  label: string,
  hooks: readonly Hook[] | undefined,
  state: string,
): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    await runHook(hook, state).catch((e: Error) => {
      throw new ContainerError(`error running ${label} hook #${i}: ${e.message}`);
    });
  }
}

function runHook(hook: Hook, state: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...rest] = hook.args?.length ? hook.args : [hook.path];
    const child = childProcess().spawn(hook.path, rest, {
      argv0,
      env: Object.fromEntries(
        (hook.env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      ),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => out.push(b));
    child.stdin.on("error", () => {}); // a hook that does not read its stdin is fine
    child.stdin.end(state);
    let timedOut = false;
    const timer =
      hook.timeout && hook.timeout > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, hook.timeout * 1000)
        : undefined;
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${hook.path}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const output = Buffer.concat(out).toString().trim();
      if (timedOut) reject(new Error(`timeout after ${hook.timeout}s`));
      else if (code === 0) resolve();
      else
        reject(
          new Error(
            `${signal ? `signal: ${signal}` : `exit status ${code}`}${output ? `, output: ${output}` : ""}`,
          ),
        );
    });
  });
}
