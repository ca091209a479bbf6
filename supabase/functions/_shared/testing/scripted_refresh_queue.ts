/**
 * A scripted {@link RefreshQueue} for daily-refresh's handler tests: it answers what the
 * test scripts and records every call. It keeps no queue rule of its own: which changed
 * works are enqueued (the 12 h floor, dedupe), which stale ones, and a watermark that only
 * moves forward are the SQL functions' rules, tested in pgTAP.
 *
 * @module
 */

import type {
  ChangesSyncRecord,
  QueueStats,
  RefreshQueue,
  SyncState,
} from "../store/refresh_queue.ts";

/** Options of {@link createScriptedRefreshQueue}. */
export interface ScriptedRefreshQueueOptions {
  /** What `readSyncState` answers. Default `null` (no row yet). */
  syncState?: SyncState | null;
  /** How many an `enqueueChanged` call enqueues. Default: its distinct ids, up to the limit. */
  enqueueChanged?: (tmdbIds: readonly number[], limit: number) => number;
  /** How many an `enqueueStale` call enqueues. Default 0. */
  enqueueStale?: (limit: number) => number;
  /** What `stats` answers. Default `{ pending: 0 }`. */
  stats?: QueueStats;
  /** Methods that reject, as a database failure would. */
  failOn?: (keyof RefreshQueue)[];
}

/** One recorded call. */
export interface RecordedCall {
  /** The method. */
  method: keyof RefreshQueue;
  /** Its arguments (arrays copied). */
  args: unknown[];
}

/** A {@link RefreshQueue} that records its calls. */
export interface ScriptedRefreshQueue extends RefreshQueue {
  /** Every call, in order. */
  readonly calls: RecordedCall[];
  /** The `recordChangesSync` records, in order. */
  readonly syncRecords: ChangesSyncRecord[];
}

/** Creates a {@link ScriptedRefreshQueue}. */
export function createScriptedRefreshQueue(
  options: ScriptedRefreshQueueOptions = {},
): ScriptedRefreshQueue {
  const calls: RecordedCall[] = [];
  const syncRecords: ChangesSyncRecord[] = [];
  const failOn = new Set(options.failOn ?? []);
  const answer = <T>(method: keyof RefreshQueue, args: unknown[], value: () => T): Promise<T> => {
    calls.push({ method, args: args.map((a) => Array.isArray(a) ? [...a] : a) });
    if (failOn.has(method)) {
      return Promise.reject(new Error(`${method}: simulated database failure`));
    }
    return Promise.resolve(value());
  };
  return {
    calls,
    syncRecords,
    stats: () => answer("stats", [], () => options.stats ?? { pending: 0 }),
    enqueueChanged: (tmdbIds, limit) =>
      answer(
        "enqueueChanged",
        [tmdbIds, limit],
        () => options.enqueueChanged?.(tmdbIds, limit) ?? Math.min(new Set(tmdbIds).size, limit),
      ),
    enqueueStale: (limit) =>
      answer("enqueueStale", [limit], () => options.enqueueStale?.(limit) ?? 0),
    readSyncState: (key) =>
      answer("readSyncState", [key], () => options.syncState ? { ...options.syncState } : null),
    recordChangesSync: (record) =>
      answer("recordChangesSync", [record], () => {
        syncRecords.push({ ...record });
      }),
  };
}
