// Where a JSON text goes wrong, as "line L column C": V8 reports a position for some errors only ("Unexpected
// token '}', ... is not valid JSON" has none), so a small scanner finds the offset of the first error itself.

/** Offset of the first JSON syntax error in `text`, or -1 if it is valid. */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  let i = 0;
  const bad = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < n && " \t\n\r".includes(text.charAt(i))) i++;
  };
  const str = () => {
    i++;
    while (i < n) {
      const c = text.charAt(i);
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const e = text.charAt(i + 1);
        if ('"\\/bfnrt'.includes(e) && e !== "") i += 2;
        else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else {
          i++;
          bad();
        }
      } else if (c < " ") bad();
      else i++;
    }
    bad();
  };
  const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    ws();
    const c = text.charAt(i);
    if (c === "{") {
      i++;
      ws();
      if (text.charAt(i) === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text.charAt(i) !== '"') bad();
        str();
        ws();
        if (text.charAt(i) !== ":") bad();
        i++;
        value();
        ws();
        const d = text.charAt(i);
        i++;
        if (d === "}") return;
        if (d !== ",") {
          i--;
          bad();
        }
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text.charAt(i) === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        const d = text.charAt(i);
        i++;
        if (d === "]") return;
        if (d !== ",") {
          i--;
          bad();
        }
      }
    }
    if (c === '"') {
      str();
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    num.lastIndex = i;
    if (num.exec(text)) {
      i = num.lastIndex;
      return;
    }
    bad();
  };
  try {
    value();
    ws();
    if (i < n) bad();
    return -1;
  } catch (e) {
    if (typeof e === "number") return e;
    throw e;
  }
}

/** "invalid json at line 3 column 11: unexpected token '}'" for a JSON.parse error message on `text`. */
export function jsonErrorMessage(text: string, v8Message: string): string {
  let detail = v8Message
    .replace(/, .*is not valid JSON$/s, "")
    .replace(/ in JSON at position \d+.*$/s, "")
    .replace(/ of JSON input$/, " of input");
  detail = detail.charAt(0).toLowerCase() + detail.slice(1);
  const offset = jsonErrorOffset(text);
  if (offset < 0) return `invalid json: ${detail}`;
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `invalid json at line ${line} column ${column}: ${detail}`;
}
