/**
 * Structured logs: one JSON object per line, `{ts, level, fn, event, ...fields}`, which
 * Supabase's log explorer parses. Every string in a line (at any depth) passes through
 * {@link redactString} first, so a configured secret, a `Bearer …` credential, an
 * `apikey=…` / `api_key=…` pair or a Postgres URL password never reaches the log stream.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";

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

/** What a redacted value is replaced with. */
export const REDACTED = "[REDACTED]";

/** Keys of the envelope; fields with these names are dropped rather than overwrite them. */
const RESERVED = new Set(["ts", "level", "fn", "event"]);

/** Field names whose string values are always secret, whatever they hold. */
const SECRET_KEY_NAME = /^(authorization|apikey|api[_-]?key|password|secret|access[_-]?token)$/i;

/**
 * Credential shapes redacted even when the value is not a configured secret:
 * `Bearer <token>`, `apikey=<v>` / `api_key: <v>`, `sb_secret_…` keys, and the password of a
 * `postgres://user:password@host` URL.
 */
const PATTERNS: readonly [RegExp, string][] = [
  // `(?![<…])`: placeholders in help texts ("Bearer <key>", "apikey: …") stay readable.
  [/\bBearer\s+(?![<…])[^\s"',;]+/gi, `Bearer ${REDACTED}`],
  [/\b(api[_-]?key)(\s*["']?\s*[=:]\s*["']?)(?![<…])[^\s&"',;}]+/gi, `$1$2${REDACTED}`],
  [/\bsb_secret_[A-Za-z0-9_-]+/g, REDACTED],
  [/\b(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, `$1${REDACTED}@`],
];

/**
 * Replaces every occurrence of each secret in `secrets` (longest first, also in its
 * URL-encoded form) and every credential pattern (see module docs) in `text`.
 *
 * @example
 * redactString("token=abc123 sent", ["abc123"]); // "token=[REDACTED] sent"
 */
export function redactString(text: string, secrets: readonly string[] = []): string {
  let out = text;
  const sorted = [...new Set(secrets.filter((s) => typeof s === "string" && s !== ""))]
    .sort((a, b) => b.length - a.length);
  for (const secret of sorted) {
    out = out.split(secret).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A JSON-ready deep copy of `value` with every string redacted by {@link redactString}.
 * `Error`s become `{name, message, stack}`, `bigint`s strings, cycles `"[Circular]"`, and
 * string values under keys such as `authorization` or `apikey` become `[REDACTED]`.
 */
export function redact(value: unknown, secrets: readonly string[] = []): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redactString(v, secrets);
    if (typeof v === "bigint") return v.toString();
    if (v === null || typeof v !== "object") {
      return typeof v === "function" || typeof v === "symbol" ? undefined : v;
    }
    if (seen.has(v)) return "[Circular]";
    seen.add(v);
    try {
      if (v instanceof Error) {
        const out: Record<string, unknown> = { name: v.name, message: walk(v.message) };
        if (v.stack) out.stack = walk(v.stack);
        return out;
      }
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
      if (Array.isArray(v)) return v.map(walk);
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) {
        out[k] = typeof inner === "string" && SECRET_KEY_NAME.test(k) ? REDACTED : walk(inner);
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value);
}

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

/** A logger that keeps its lines in memory (for tests): `lines` raw, `entries` parsed. */
export interface MemoryLogger extends Logger {
  /** Every line written, in order, as JSON text. */
  readonly lines: string[];
  /** Every line written, parsed. */
  readonly entries: Record<string, unknown>[];
}

/** Creates a {@link MemoryLogger} (same redaction and format as {@link createLogger}). */
export function createMemoryLogger(
  options: Omit<LoggerOptions, "write"> = { fn: "test" },
): MemoryLogger {
  const lines: string[] = [];
  const logger = createLogger({ ...options, write: (line) => lines.push(line) });
  return {
    ...logger,
    lines,
    get entries() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}
