/**
 * The functions host's log lines: one JSON object a line, each with `ts`, `level` and `event`
 * (the events and their fields are listed in docs/functions-host.md, "Log").
 *
 * @module
 */

/** One log line: a JSON object with at least `ts`, `level` and `event`. */
export type LogEntry = Record<string, unknown> & {
  ts: string;
  level: "debug" | "info" | "warn" | "error";
  event: string;
};

/** Builds a log entry stamped with the current time. */
export function logEntry(
  level: LogEntry["level"],
  event: string,
  fields: Record<string, unknown> = {},
): LogEntry {
  return { ts: new Date().toISOString(), level, event, ...fields };
}

/** Writes `entry` as one JSON line on stdout. */
export function printLogEntry(entry: LogEntry): void {
  console.log(JSON.stringify(entry));
}

/** MB with one decimal, for logs. */
export function roundMb(mb: number): number {
  return Math.round(mb * 10) / 10;
}
