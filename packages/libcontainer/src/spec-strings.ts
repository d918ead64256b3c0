// NUL bytes: every string of config.json that reaches a system call (paths, args, env, hook commands, options)
// goes to the executor as a C string, where a NUL would cut it short; the plan encoder refuses them. So the whole
// document is refused up front, naming the field, as Go's syscall package refuses such a string with EINVAL.

type Node = { value: unknown; parent: number; key: string | number };

/** A field path as validation messages write them: `process.args[1]`, `annotations.key`. */
function pathOf(nodes: Node[], i: number): string {
  const parts: string[] = [];
  for (let n = nodes[i]; n && n.parent >= 0; n = nodes[n.parent])
    parts.push(typeof n.key === "number" ? `[${n.key}]` : `.${n.key}`);
  return parts.reverse().join("").replace(/^\./, "");
}

/** The path of the first string value or key holding a NUL byte, walked without recursion (any depth). */
export function findNul(doc: unknown): string | undefined {
  const nodes: Node[] = [{ value: doc, parent: -1, key: "" }];
  for (let i = 0; i < nodes.length; i++) {
    const { value } = nodes[i]!;
    if (typeof value === "string") {
      if (value.includes("\0")) return pathOf(nodes, i);
    } else if (Array.isArray(value)) {
      for (let k = 0; k < value.length; k++) nodes.push({ value: value[k], parent: i, key: k });
    } else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes("\0")) return pathOf(nodes, nodes.push({ value: v, parent: i, key: k }) - 1);
        nodes.push({ value: v, parent: i, key: k });
      }
    }
  }
  return undefined;
}
