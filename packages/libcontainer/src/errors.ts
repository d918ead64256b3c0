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
    super(field === "" ? `config.json: ${message}` : `config.json: ${field}: ${message}`);
    this.field = field;
  }

  /** A spec field tsrun knows but does not implement: refused, never ignored. */
  static unsupported(field: string): ConfigError {
    const e = new ConfigError(field, "");
    e.message = `config.json: ${field} is not supported yet`;
    return e;
  }
}
