/**
 * A config.json that tsrun cannot run: malformed, invalid, or asking for something tsrun does not implement.
 * Messages name the file and the field, lower-case, with no trailing period:
 * `config.json: process.args: must be a non-empty array of strings`.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The dotted path of the offending field ("" for the whole document). */
  readonly field: string;

  constructor(field: string, message: string) {
    super(printable(field === "" ? `config.json: ${message}` : `config.json: ${field}: ${message}`));
    this.field = field;
  }

  /** A spec field tsrun knows but does not implement: refused, never ignored. */
  static unsupported(field: string): ConfigError {
    const e = new ConfigError(field, "");
    e.message = `config.json: ${printable(field)} is not supported yet`;
    return e;
  }
}

/** Field names and quoted bits come from the document: control characters are escaped so an error stays one line. */
function printable(field: string): string {
  let out = "";
  for (const c of field) {
    const n = c.charCodeAt(0);
    out += n < 0x20 || n === 0x7f ? `\\u${n.toString(16).padStart(4, "0")}` : c;
  }
  return out;
}
