/**
 * A {@link Logger} that keeps its lines in memory, for tests: same format and redaction as
 * the real one.
 *
 * @module
 */

import { createLogger, type Logger, type LoggerOptions } from "../platform/logger.ts";

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
