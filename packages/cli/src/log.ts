// Error reporting in runc's shapes, which clients parse:
// - no --log: a logrus line on stderr: time="..." level=error msg="..." (a JSON object with --log-format json)
// - --log FILE: that line (or with --log-format json, {"level":"error","msg":"...","time":"..."}) appended to FILE,
//   and the bare message on stderr. On success the file stays empty: podman parses all of it as one object.
import { appendFileSync } from "node:fs";

export interface LogOptions {
  file?: string;
  format: "text" | "json";
}

const rfc3339 = (d = new Date()) => `${d.toISOString().slice(0, 19)}Z`;

/** logrus quotes a value when it has anything beyond a plain word. */
function textValue(s: string): string {
  return /^[\w./@^+-]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLine(level: string, msg: string, format: "text" | "json", time = rfc3339()): string {
  if (format === "json") return `${JSON.stringify({ level, msg, time })}\n`;
  return `time="${time}" level=${level} msg=${textValue(msg)}\n`;
}

export function logError(opts: LogOptions, msg: string): void {
  if (opts.file) {
    try {
      appendFileSync(opts.file, formatLine("error", msg, opts.format));
    } catch {
      // The log file being unwritable must not hide the error itself.
    }
    process.stderr.write(`${msg}\n`);
  } else {
    // runc writes the JSON line to stderr too when --log-format json comes without --log.
    process.stderr.write(formatLine("error", msg, opts.format));
  }
}

export function logDebug(opts: LogOptions & { debug: boolean }, msg: string): void {
  if (!opts.debug) return;
  const line = formatLine("debug", msg, opts.format);
  if (opts.file) appendFileSync(opts.file, line);
  else process.stderr.write(line);
}
