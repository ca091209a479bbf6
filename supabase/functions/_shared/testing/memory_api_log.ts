/**
 * An {@link ApiLogSink} that keeps its rows in memory, for tests.
 *
 * @module
 */

import type { ApiLogRow, ApiLogSink } from "../tmdb/api_log.ts";

/** An in-memory sink for tests: `rows` holds everything added; `flush` counts calls. */
export interface MemoryApiLogSink extends ApiLogSink {
  /** Every row added, in order. */
  readonly rows: ApiLogRow[];
  /** How many times `flush()` was called. */
  readonly flushes: number;
}

/** Creates a {@link MemoryApiLogSink}. */
export function memoryApiLogSink(): MemoryApiLogSink {
  const rows: ApiLogRow[] = [];
  let flushes = 0;
  return {
    rows,
    get flushes() {
      return flushes;
    },
    add(row) {
      rows.push(row);
    },
    flush() {
      flushes++;
      return Promise.resolve();
    },
  };
}
