/**
 * One row per outgoing TMDB HTTP attempt, buffered in memory and written to
 * `public.tmdb_api_logs` in batches (one INSERT per batch), so logging never adds a database
 * round trip to each request and a logging failure never fails a request.
 *
 * @module
 */

import type postgres from "postgres";
import { type Clock, systemClock } from "../platform/clock.ts";

/** A row of `public.tmdb_api_logs`. Holds no secret: `params` never contains `api_key`. */
export interface ApiLogRow {
  /** ISO 8601 time the attempt started. */
  created_at: string;
  /** The edge function (or worker) that made the call. */
  function_name: string;
  /** The run (invocation) id, to group a run's calls. */
  run_id: string;
  /** HTTP method, e.g. `GET`. */
  method: string;
  /** Path template, e.g. `/movie/{id}`, `/movie/popular`, `/trending/movie/day`. */
  endpoint: string;
  /** Non-secret query parameters, e.g. `{ page: "2" }`. */
  params: Record<string, string>;
  /** HTTP status, or `null` when no response arrived (network error, timeout). */
  http_status: number | null;
  /** TMDB's `status_code` from an error body, if any. */
  tmdb_status_code: number | null;
  /** Wall time of the attempt in whole milliseconds. */
  duration_ms: number;
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
  /** What went wrong (secrets redacted), or `null` on success. */
  error: string | null;
  /** The movie the call was about, if any. */
  tmdb_id: number | null;
}

/** Where API log rows go. */
export interface ApiLogSink {
  /** Records a row. Never throws and never waits for I/O. */
  add(row: ApiLogRow): void;
  /** Writes every row added so far. Never rejects: write failures go to the logger. */
  flush(): Promise<void>;
}

/** The columns of `public.tmdb_api_logs` this module writes, in order. */
export const API_LOG_COLUMNS = [
  "created_at",
  "function_name",
  "run_id",
  "method",
  "endpoint",
  "params",
  "http_status",
  "tmdb_status_code",
  "duration_ms",
  "attempt",
  "error",
  "tmdb_id",
] as const satisfies readonly (keyof ApiLogRow)[];

/** Receives one structured entry per problem; the default prints one JSON line to stderr. */
export interface ApiLogLogger {
  /** Reports an error entry (a JSON-serialisable object). */
  error(entry: Record<string, unknown>): void;
}

const consoleLogger: ApiLogLogger = {
  error: (entry) => console.error(JSON.stringify(entry)),
};

/** Options for {@link createBatchedApiLogSink}. */
export interface BatchedApiLogSinkOptions {
  /** Writes one batch (one statement). A rejection is reported, not thrown. */
  write: (rows: ApiLogRow[]) => Promise<void>;
  /** Rows per write; a full batch is written at once, in the background. Default 100. */
  batchSize?: number;
  /** If set, rows waiting this long are written even if the batch is not full. */
  flushIntervalMs?: number;
  /** Where write failures go. Default: one JSON line on stderr. */
  logger?: ApiLogLogger;
  /** Time source for `flushIntervalMs`. Default {@link systemClock}. */
  clock?: Clock;
}

/**
 * Buffers rows and writes them in batches of `batchSize`, one write at a time, in order.
 *
 * A failed write is reported to `logger` as one entry
 * `{ level: "error", msg: "tmdb_api_logs write failed", error, row_count, rows }` that
 * carries the rows themselves, so they survive in the function's log stream instead of
 * being dropped silently; the request path never sees the failure.
 */
export function createBatchedApiLogSink(options: BatchedApiLogSinkOptions): ApiLogSink {
  const { write, batchSize = 100, flushIntervalMs, logger = consoleLogger } = options;
  const clock = options.clock ?? systemClock;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`\`batchSize\` must be a positive integer: current value is ${batchSize}`);
  }
  if (flushIntervalMs !== undefined && !(Number.isFinite(flushIntervalMs) && flushIntervalMs > 0)) {
    throw new RangeError(
      `\`flushIntervalMs\` must be a positive number: current value is ${flushIntervalMs}`,
    );
  }

  let buffer: ApiLogRow[] = [];
  let chain: Promise<void> = Promise.resolve();
  let timer: AbortController | null = null;

  const writeBatch = (rows: ApiLogRow[]) => {
    chain = chain.then(async () => {
      try {
        await write(rows);
      } catch (error) {
        try {
          logger.error({
            level: "error",
            msg: "tmdb_api_logs write failed",
            error: error instanceof Error ? error.message : String(error),
            row_count: rows.length,
            rows,
          });
        } catch {
          // A broken logger must not break the request path either.
        }
      }
    });
  };

  const cancelTimer = () => {
    timer?.abort();
    timer = null;
  };

  const startTimer = () => {
    if (flushIntervalMs === undefined || timer) return;
    const controller = new AbortController();
    timer = controller;
    clock.sleep(flushIntervalMs, controller.signal).then(
      () => {
        if (timer !== controller) return;
        timer = null;
        drain();
      },
      () => {}, // cancelled
    );
  };

  /** Moves everything buffered into the write chain, in batches. */
  const drain = () => {
    cancelTimer();
    while (buffer.length > 0) {
      writeBatch(buffer.slice(0, batchSize));
      buffer = buffer.slice(batchSize);
    }
  };

  return {
    add(row: ApiLogRow): void {
      buffer.push(row);
      if (buffer.length >= batchSize) {
        writeBatch(buffer.slice(0, batchSize));
        buffer = buffer.slice(batchSize);
      }
      if (buffer.length === 0) cancelTimer();
      else startTimer();
    },
    async flush(): Promise<void> {
      drain();
      await chain;
    },
  };
}

/**
 * A `write` for {@link createBatchedApiLogSink} that inserts a batch into
 * `public.tmdb_api_logs` in one statement, `params` as jsonb.
 */
export function createPostgresApiLogWriter(
  sql: postgres.Sql,
): (rows: ApiLogRow[]) => Promise<void> {
  return async (rows) => {
    if (rows.length === 0) return;
    const values = rows.map((row) => ({ ...row, params: sql.json(row.params) }));
    await sql`insert into public.tmdb_api_logs ${sql(values, ...API_LOG_COLUMNS)}`;
  };
}

/** A sink that discards rows (the default when no sink is configured). */
export const nullApiLogSink: ApiLogSink = {
  add() {},
  flush: () => Promise.resolve(),
};
