/**
 * Structured logs: one JSON object per line, `{ts, level, fn, event, ...fields}`, which
 * Supabase's log explorer parses. Every string in a line (at any depth) passes through
 * {@link redactString} first, so a configured secret, a `Bearer …` credential, an
 * `apikey=…` / `api_key=…` pair or a Postgres URL password never reaches the log stream.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { redact, redactString } from "./redact.ts";

/** Severity of a log line. */
export type LogLevel = "info" | "warn" | "error";

/** Extra fields of a log line (any JSON-serialisable values; `Error`s are expanded). */
export type LogFields = Record<string, unknown>;

/** Writes one-line JSON log entries. */
export interface Logger {
  /** Logs `event` at level `info` with `fields`. */
  info(event: string, fields?: LogFields): void;
  /** Logs `event` at level `warn` with `fields`. */
  warn(event: string, fields?: LogFields): void;
  /** Logs `event` at level `error` with `fields`. */
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (its own fields win over the parent's). */
  child(fields: LogFields): Logger;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The function (or component) name, the `fn` of every line. */
  fn: string;
  /** Secret values to replace by `[REDACTED]` wherever they appear. Empty strings are ignored. */
  secrets?: readonly string[];
  /**
   * Receives each finished line (no trailing newline). Default: `console.log` for `info`,
   * `console.warn` for `warn`, `console.error` for `error` (the log explorer maps these to
   * its severities).
   */
  write?: (line: string, level: LogLevel) => void;
  /** Source of `ts`. Default {@link systemClock}. */
  clock?: Clock;
  /** Fields added to every line. */
  fields?: LogFields;
}

/** Keys of the envelope; fields with these names are dropped rather than overwrite them. */
const RESERVED = new Set(["ts", "level", "fn", "event"]);

const defaultWrite = (line: string, level: LogLevel): void => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/**
 * Creates a {@link Logger} writing one JSON object per line:
 * `{"ts":"2026-01-01T00:00:00.000Z","level":"info","fn":"ingest-movie","event":"…",…}`.
 * Logging never throws: a field that cannot be serialised is replaced by a note.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { fn, write = defaultWrite, clock = systemClock } = options;
  const secrets = [...(options.secrets ?? [])];
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, event: string, fields: LogFields = {}) => {
      const entry: Record<string, unknown> = {
        ts: new Date(clock.now()).toISOString(),
        level,
        fn,
        event: redactString(String(event), secrets),
      };
      const extra = redact({ ...base, ...fields }, secrets) as Record<string, unknown>;
      for (const [k, v] of Object.entries(extra)) if (!RESERVED.has(k)) entry[k] = v;
      let line: string;
      try {
        line = JSON.stringify(entry);
      } catch (error) {
        line = JSON.stringify({
          ts: entry.ts,
          level,
          fn,
          event: entry.event,
          log_error: redactString(`fields not serialisable: ${String(error)}`, secrets),
        });
      }
      try {
        write(line, level);
      } catch {
        // A broken sink must not break the request that logs.
      }
    };
    return {
      info: (event, fields) => emit("info", event, fields),
      warn: (event, fields) => emit("warn", event, fields),
      error: (event, fields) => emit("error", event, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({ ...(options.fields ?? {}) });
}
