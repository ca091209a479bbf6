/**
 * The refresh queue (`public.refresh_queue`) and the changes-feed watermark
 * (`public.sync_state`), as `daily-refresh` and `refresh-worker` see them.
 *
 * The rules that must hold under concurrency (claiming with `for update skip locked`,
 * leases, attempt caps, the 12 h floor, dedupe of active items, a watermark that only moves
 * forward) live in SQL functions; each method here is one round trip calling one of them.
 * A worker that drains the queue claims its first batch with `claimBatch` and then finishes
 * each batch and claims the next in one round trip with `finishAndClaim`.
 * {@link createMemoryRefreshQueue} mirrors those rules in memory for handler tests.
 *
 * @module
 */

import type postgres from "postgres";
import { z } from "zod";
import { type Clock, systemClock } from "./clock.ts";
import { intArrayLiteral } from "./ingestion_runs.ts";

/** The `sync_state` key of the TMDB movie changes feed. */
export const CHANGES_SYNC_KEY = "tmdb_movie_changes";

/** An item handed to a worker by {@link RefreshQueue.claimBatch}. */
export interface ClaimedItem {
  /** The queue row id. */
  queue_id: number;
  /** The catalog work id. */
  work_id: number;
  /** The TMDB movie id to refresh. */
  tmdb_id: number;
  /** Which attempt this is (1 for the first claim). */
  attempt: number;
}

/** What a refresh of one item ended with, when it succeeded. */
export type RefreshResultKind = "refreshed" | "unchanged" | "not_found";

/** The outcome of one claimed item, as passed to {@link RefreshQueue.finishBatch}. */
export interface RefreshItemResult {
  /** The claimed item's queue id. */
  queue_id: number;
  /** The claimed item's attempt (a finish for an older attempt is ignored as a lost lease). */
  attempt: number;
  /** Whether the item is done. */
  ok: boolean;
  /** Set when `ok`. */
  result?: RefreshResultKind;
  /** What went wrong, when not `ok` (no secrets). */
  error?: string;
  /** When not `ok`: whether the queue may try again (it still caps attempts). */
  retryable?: boolean;
}

/** What {@link RefreshQueue.finishBatch} reports (SQL's jsonb, known keys parsed). */
export interface FinishBatchCounts {
  /** Items marked completed. */
  completed: number;
  /** Failed items put back for another attempt. */
  retried: number;
  /** Failed items given up on (attempts exhausted or not retryable). */
  failed: number;
  /** Results ignored because the item's lease was lost (expired and re-claimed, or gone). */
  lost_lease: number;
}

/** Queue statistics as `public.refresh_queue_stats()` returns them (a JSON object). */
export type QueueStats = Record<string, unknown>;

/** A row of `public.sync_state`. */
export interface SyncState {
  /** The feed, e.g. {@link CHANGES_SYNC_KEY}. */
  key: string;
  /** When a sync last ran (whatever its outcome). */
  last_sync_at: Date | null;
  /** The instant up to which the feed has been read completely, or `null` (never). */
  changes_watermark: Date | null;
  /** The run id of the last sync. */
  last_run_id: string | null;
  /** The last sync's error, or `null` when it was complete. */
  last_error: string | null;
}

/** What {@link RefreshQueue.recordChangesSync} records. */
export interface ChangesSyncRecord {
  /** The feed. Default {@link CHANGES_SYNC_KEY}. */
  key?: string;
  /** The new watermark, or `null` to leave it where it is (it never moves back). */
  watermark: Date | null;
  /** The run that synced. */
  runId: string;
  /** Why the sync is incomplete, or `null`. */
  error: string | null;
}

/** Options for {@link RefreshQueue.claimBatch} and {@link RefreshQueue.finishAndClaim}. */
export interface ClaimOptions {
  /** Most items to claim (`claimBatch`: 1..1000; `finishAndClaim`: 0..1000, 0 = finish only). */
  batchSize: number;
  /** Seconds the claim is held before another worker may take the items. */
  leaseSeconds: number;
}

/** What {@link RefreshQueue.finishAndClaim} returns. */
export interface FinishAndClaimResult {
  /** The finished batch's counts (all 0 when no results were passed). */
  finished: FinishBatchCounts;
  /** The next batch (empty when `batchSize` was 0 or nothing is ready). */
  claimed: ClaimedItem[];
}

/** The refresh queue and the feed state. */
export interface RefreshQueue {
  /** Claims up to `batchSize` ready items for `worker` (one round trip). */
  claimBatch(worker: string, options: ClaimOptions): Promise<ClaimedItem[]>;
  /** Records the outcome of claimed items (one round trip for the whole batch). */
  finishBatch(worker: string, results: readonly RefreshItemResult[]): Promise<FinishBatchCounts>;
  /**
   * Records the outcome of claimed items and then claims up to `batchSize` more for `worker`
   * (`public.finish_and_claim_refresh_batch`: one round trip, one commit). `results` may be
   * empty (just claims); `batchSize` 0 just finishes.
   */
  finishAndClaim(
    worker: string,
    results: readonly RefreshItemResult[],
    options: ClaimOptions,
  ): Promise<FinishAndClaimResult>;
  /** Counts by status and the like. */
  stats(): Promise<QueueStats>;
  /**
   * Enqueues the changed ids that are in the catalog and were not refreshed in the last
   * 12 h, at changes priority, at most `limit`; returns how many were enqueued.
   */
  enqueueChanged(tmdbIds: readonly number[], limit: number): Promise<number>;
  /** Enqueues up to `limit` of the most overdue works; returns how many were enqueued. */
  enqueueStale(limit: number): Promise<number>;
  /** The row of `key` (default {@link CHANGES_SYNC_KEY}), or `null` when there is none. */
  readSyncState(key?: string): Promise<SyncState | null>;
  /** Updates `last_sync_at` always, the watermark only forward, and the last error. */
  recordChangesSync(record: ChangesSyncRecord): Promise<void>;
}

const count = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

const claimedRowSchema = z.object({
  queue_id: count,
  work_id: count,
  tmdb_id: z.number().int(),
  attempt: z.number().int(),
});

const finishCountsSchema = z.object({
  completed: count.default(0),
  retried: count.default(0),
  failed: count.default(0),
  lost_lease: count.default(0),
}).passthrough();

const finishAndClaimSchema = z.object({
  finished: finishCountsSchema,
  claimed: z.array(claimedRowSchema),
});

function unexpected(fn: string, value: unknown, error: z.ZodError): Error {
  return new Error(
    `${fn} returned an unexpected value: ${JSON.stringify(value)?.slice(0, 200)} (${
      error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")
    })`,
  );
}

function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A {@link RefreshQueue} over postgres.js: one SQL statement per method. */
export function createPostgresRefreshQueue(sql: postgres.Sql): RefreshQueue {
  return {
    async claimBatch(worker, { batchSize, leaseSeconds }) {
      const rows = await sql`
        select c.queue_id, c.work_id, c.tmdb_id, c.attempt
          from public.claim_refresh_batch(
            ${worker}, ${batchSize}::integer, ${leaseSeconds}::integer
          ) as c`;
      return rows.map((row) => {
        const parsed = claimedRowSchema.safeParse(row);
        if (!parsed.success) throw unexpected("public.claim_refresh_batch", row, parsed.error);
        return parsed.data;
      });
    },
    async finishBatch(worker, results) {
      const rows = await sql`
        select public.finish_refresh_batch(
          ${worker}, ${sql.json(results as unknown as postgres.JSONValue)}
        ) as r`;
      const value = rows[0]?.r;
      const parsed = finishCountsSchema.safeParse(value ?? {});
      if (!parsed.success) throw unexpected("public.finish_refresh_batch", value, parsed.error);
      const { completed, retried, failed, lost_lease } = parsed.data;
      return { completed, retried, failed, lost_lease };
    },
    async finishAndClaim(worker, results, { batchSize, leaseSeconds }) {
      const rows = await sql`
        select public.finish_and_claim_refresh_batch(
          ${worker}, ${sql.json(results as unknown as postgres.JSONValue)},
          ${batchSize}::integer, ${leaseSeconds}::integer
        ) as r`;
      const value = rows[0]?.r;
      const parsed = finishAndClaimSchema.safeParse(value);
      if (!parsed.success) {
        throw unexpected("public.finish_and_claim_refresh_batch", value, parsed.error);
      }
      const { completed, retried, failed, lost_lease } = parsed.data.finished;
      return { finished: { completed, retried, failed, lost_lease }, claimed: parsed.data.claimed };
    },
    async stats() {
      const rows = await sql`select public.refresh_queue_stats() as s`;
      const value = rows[0]?.s;
      return value !== null && typeof value === "object" ? value as QueueStats : {};
    },
    async enqueueChanged(tmdbIds, limit) {
      if (tmdbIds.length === 0 || limit <= 0) return 0;
      const rows = await sql`
        select public.enqueue_changed_movies(
          ${intArrayLiteral(tmdbIds)}::integer[], ${limit}::integer
        ) as n`;
      return Number(rows[0]?.n ?? 0);
    },
    async enqueueStale(limit) {
      if (limit <= 0) return 0;
      const rows = await sql`select public.enqueue_stale_movies(${limit}::integer) as n`;
      return Number(rows[0]?.n ?? 0);
    },
    async readSyncState(key = CHANGES_SYNC_KEY) {
      const rows = await sql`
        select s.key, s.last_sync_at, s.changes_watermark, s.last_run_id::text as last_run_id,
               s.last_error
          from public.sync_state as s
         where s.key = ${key}`;
      const row = rows[0];
      if (!row) return null;
      return {
        key: String(row.key),
        last_sync_at: toDate(row.last_sync_at),
        changes_watermark: toDate(row.changes_watermark),
        last_run_id: row.last_run_id ?? null,
        last_error: row.last_error ?? null,
      };
    },
    async recordChangesSync({ key = CHANGES_SYNC_KEY, watermark, runId, error }) {
      await sql`
        select public.record_changes_sync(
          ${key},
          ${watermark === null ? null : watermark.toISOString()}::timestamptz,
          ${runId}::uuid,
          ${error}
        )`;
    },
  };
}

// ---------------------------------------------------------------------------------------
// In-memory fake
// ---------------------------------------------------------------------------------------

/** Status of a {@link MemoryQueueItem}. */
export type MemoryQueueStatus = "pending" | "processing" | "completed" | "failed";

/** A queue row of a {@link MemoryRefreshQueue}. */
export interface MemoryQueueItem {
  /** Row id (1, 2, …). */
  queue_id: number;
  /** The catalog work id. */
  work_id: number;
  /** The TMDB id. */
  tmdb_id: number;
  /** Lower runs first: 10 changed, 100 stale or manual (as in SQL). */
  priority: number;
  /** Status. */
  status: MemoryQueueStatus;
  /** Claims so far. */
  attempt: number;
  /** Worker holding it, while processing. */
  locked_by: string | null;
  /** Epoch ms the lease ends, while processing. */
  lease_until: number | null;
  /** Epoch ms before which it is not claimed (backoff). */
  run_at: number;
  /** The last error. */
  last_error: string | null;
  /** The successful result. */
  result: RefreshResultKind | null;
  /** How often the item was completed (must stay ≤ 1). */
  completions: number;
}

/** A catalog work known to a {@link MemoryRefreshQueue}. */
export interface MemoryWork {
  /** The work id. */
  work_id: number;
  /** The TMDB id. */
  tmdb_id: number;
  /** Epoch ms of the last refresh, or `null`. */
  last_refreshed_at: number | null;
  /** Epoch ms the work is due. */
  next_refresh_at: number;
}

/** Options for {@link createMemoryRefreshQueue}. */
export interface MemoryRefreshQueueOptions {
  /** Time for leases, floors and `last_sync_at`. Default the system clock. */
  clock?: Clock;
  /** Attempts before an item fails for good. Default 3. */
  maxAttempts?: number;
  /** Changed works refreshed more recently than this are not enqueued. Default 12 h. */
  floorMs?: number;
  /** Delay before a failed item is claimable again. Default 0 (SQL: 30 s · 2^(attempt−1)). */
  retryDelayMs?: number;
  /** Make these methods reject (a database failure). */
  failOn?: (keyof RefreshQueue)[];
}

/** An in-memory {@link RefreshQueue} for tests, with its state open to inspection. */
export interface MemoryRefreshQueue extends RefreshQueue {
  /** Queue rows by queue id. */
  readonly items: Map<number, MemoryQueueItem>;
  /** Catalog works by TMDB id (used by the enqueue methods). */
  readonly works: Map<number, MemoryWork>;
  /** `sync_state` rows by key. */
  readonly syncStates: Map<string, SyncState>;
  /**
   * Each claim, by `claimBatch` or by a `finishAndClaim` with `batchSize` > 0 (`combined`):
   * worker and how many items it got.
   */
  readonly claimCalls: {
    worker: string;
    batchSize: number;
    leaseSeconds: number;
    got: number;
    combined: boolean;
  }[];
  /**
   * Each finish, by `finishBatch` or by a `finishAndClaim` with results (`combined`): worker
   * and results.
   */
  readonly finishCalls: { worker: string; results: RefreshItemResult[]; combined: boolean }[];
  /** Each `finishAndClaim` call: worker, results, claim options and how many items it got. */
  readonly finishAndClaimCalls: {
    worker: string;
    results: RefreshItemResult[];
    batchSize: number;
    leaseSeconds: number;
    got: number;
  }[];
  /** Each `enqueueChanged` / `enqueueStale` / `recordChangesSync` call, in order. */
  readonly calls: { method: string; args: unknown[] }[];
  /** Adds a work to the catalog. */
  addWork(work: Omit<MemoryWork, "work_id"> & { work_id?: number }): MemoryWork;
  /** Puts a work's item in the queue (as `enqueue_refresh` would); returns its queue id. */
  enqueue(tmdbId: number, options?: { priority?: number }): number;
}

/**
 * Creates a {@link MemoryRefreshQueue} with the SQL functions' rules (018/021): claims in
 * (priority, queue id) order, skip rows leased by others, re-claim expired leases (failing
 * those on their last attempt), finish only with the holder's current attempt and a live
 * lease (else `lost_lease`), retry retryable failures until `maxAttempts`,
 * never two active items for one work, the 12 h floor for changed works, stale works by
 * `next_refresh_at`, a watermark that only moves forward. `finishAndClaim` runs the same
 * finish and then the same claim (as SQL composes them), and fails when `failOn` names it,
 * `finishBatch` or `claimBatch` (a failure of either part fails the whole call).
 */
export function createMemoryRefreshQueue(
  options: MemoryRefreshQueueOptions = {},
): MemoryRefreshQueue {
  const clock = options.clock ?? systemClock;
  const maxAttempts = options.maxAttempts ?? 3;
  const floorMs = options.floorMs ?? 12 * 3_600_000;
  const retryDelayMs = options.retryDelayMs ?? 0;
  const failOn = new Set(options.failOn ?? []);
  const items = new Map<number, MemoryQueueItem>();
  const works = new Map<number, MemoryWork>();
  const syncStates = new Map<string, SyncState>();
  const claimCalls: MemoryRefreshQueue["claimCalls"] = [];
  const finishCalls: MemoryRefreshQueue["finishCalls"] = [];
  const finishAndClaimCalls: MemoryRefreshQueue["finishAndClaimCalls"] = [];
  const calls: MemoryRefreshQueue["calls"] = [];
  let nextQueueId = 1;
  let nextWorkId = 1;

  const fail = (method: keyof RefreshQueue) => {
    if (failOn.has(method)) throw new Error(`${method}: simulated database failure`);
  };
  const active = (workId: number) =>
    [...items.values()].some((i) =>
      i.work_id === workId && (i.status === "pending" || i.status === "processing")
    );
  const put = (work: MemoryWork, priority: number): number => {
    const item: MemoryQueueItem = {
      queue_id: nextQueueId++,
      work_id: work.work_id,
      tmdb_id: work.tmdb_id,
      priority,
      status: "pending",
      attempt: 0,
      locked_by: null,
      lease_until: null,
      run_at: clock.now(),
      last_error: null,
      result: null,
      completions: 0,
    };
    items.set(item.queue_id, item);
    return item.queue_id;
  };
  const wrap = <T>(
    method: keyof RefreshQueue | (keyof RefreshQueue)[],
    body: () => T,
  ): Promise<T> => {
    try {
      for (const m of Array.isArray(method) ? method : [method]) fail(m);
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error);
    }
  };

  // The claim and the finish, shared by claimBatch, finishBatch and finishAndClaim.
  const claim = (
    worker: string,
    { batchSize, leaseSeconds }: ClaimOptions,
    combined: boolean,
  ): ClaimedItem[] => {
    const now = clock.now();
    // The reaper: an expired lease on the last allowed attempt fails the item.
    for (const i of items.values()) {
      if (
        i.status === "processing" && i.lease_until !== null && i.lease_until < now &&
        i.attempt >= maxAttempts
      ) {
        i.status = "failed";
        i.lease_until = null;
        i.last_error = `lease expired after attempt ${i.attempt} of ${maxAttempts}`;
      }
    }
    const ready = [...items.values()]
      .filter((i) =>
        (i.status === "pending" && i.run_at <= now) ||
        (i.status === "processing" && i.lease_until !== null && i.lease_until < now)
      )
      .sort((a, b) => a.priority - b.priority || a.queue_id - b.queue_id)
      .slice(0, batchSize);
    for (const item of ready) {
      item.status = "processing";
      item.attempt++;
      item.locked_by = worker;
      item.lease_until = now + leaseSeconds * 1000;
    }
    claimCalls.push({ worker, batchSize, leaseSeconds, got: ready.length, combined });
    return ready.map(({ queue_id, work_id, tmdb_id, attempt }) => ({
      queue_id,
      work_id,
      tmdb_id,
      attempt,
    }));
  };
  const finish = (
    worker: string,
    results: readonly RefreshItemResult[],
    combined: boolean,
  ): FinishBatchCounts => {
    finishCalls.push({ worker, results: structuredClone([...results]), combined });
    const counts: FinishBatchCounts = { completed: 0, retried: 0, failed: 0, lost_lease: 0 };
    const now = clock.now();
    for (const r of results) {
      const item = items.get(r.queue_id);
      if (
        !item || item.status !== "processing" || item.locked_by !== worker ||
        item.attempt !== r.attempt || item.lease_until === null || item.lease_until <= now
      ) {
        counts.lost_lease++;
        continue;
      }
      item.locked_by = null;
      item.lease_until = null;
      if (r.ok) {
        item.status = "completed";
        item.result = r.result ?? "refreshed";
        item.completions++;
        counts.completed++;
      } else if (r.retryable !== false && item.attempt < maxAttempts) {
        item.status = "pending";
        item.run_at = now + retryDelayMs;
        item.last_error = r.error ?? null;
        counts.retried++;
      } else {
        item.status = "failed";
        item.last_error = r.error ?? null;
        counts.failed++;
      }
    }
    return counts;
  };

  return {
    items,
    works,
    syncStates,
    claimCalls,
    finishCalls,
    finishAndClaimCalls,
    calls,
    addWork(work) {
      const stored: MemoryWork = { ...work, work_id: work.work_id ?? nextWorkId++ };
      nextWorkId = Math.max(nextWorkId, stored.work_id + 1);
      works.set(stored.tmdb_id, stored);
      return stored;
    },
    enqueue(tmdbId, { priority = 100 } = {}) {
      const work = works.get(tmdbId);
      if (!work) throw new Error(`enqueue: no work with tmdb_id ${tmdbId}`);
      const existing = [...items.values()].find((i) =>
        i.work_id === work.work_id && (i.status === "pending" || i.status === "processing")
      );
      return existing?.queue_id ?? put(work, priority);
    },
    claimBatch(worker, options) {
      return wrap("claimBatch", () => claim(worker, options, false));
    },
    finishBatch(worker, results) {
      return wrap("finishBatch", () => finish(worker, results, false));
    },
    finishAndClaim(worker, results, options) {
      return wrap(["finishAndClaim", "finishBatch", "claimBatch"], () => {
        // As in SQL: an empty result list finishes nothing; batchSize 0 claims nothing.
        const finished = results.length > 0
          ? finish(worker, results, true)
          : { completed: 0, retried: 0, failed: 0, lost_lease: 0 };
        const claimed = options.batchSize > 0 ? claim(worker, options, true) : [];
        finishAndClaimCalls.push({
          worker,
          results: structuredClone([...results]),
          batchSize: options.batchSize,
          leaseSeconds: options.leaseSeconds,
          got: claimed.length,
        });
        return { finished, claimed };
      });
    },
    stats() {
      return wrap("stats", () => {
        const now = clock.now();
        const out: Record<string, number> = {
          pending: 0,
          processing: 0,
          completed: 0,
          failed: 0,
          ready: 0,
          expired_leases: 0,
        };
        for (const item of items.values()) {
          out[item.status]++;
          if (item.status === "pending" && item.run_at <= now) out.ready++;
          if (item.status === "processing" && (item.lease_until ?? 0) < now) out.expired_leases++;
        }
        return out as QueueStats;
      });
    },
    enqueueChanged(tmdbIds, limit) {
      return wrap("enqueueChanged", () => {
        calls.push({ method: "enqueueChanged", args: [[...tmdbIds], limit] });
        const now = clock.now();
        let n = 0;
        for (const id of new Set(tmdbIds)) {
          if (n >= limit) break;
          const work = works.get(id);
          if (!work || active(work.work_id)) continue;
          if (work.last_refreshed_at !== null && work.last_refreshed_at > now - floorMs) continue;
          put(work, 10);
          n++;
        }
        return n;
      });
    },
    enqueueStale(limit) {
      return wrap("enqueueStale", () => {
        calls.push({ method: "enqueueStale", args: [limit] });
        const now = clock.now();
        const due = [...works.values()]
          .filter((w) => w.next_refresh_at <= now && !active(w.work_id))
          .sort((a, b) => a.next_refresh_at - b.next_refresh_at || a.work_id - b.work_id)
          .slice(0, Math.max(0, limit));
        for (const work of due) put(work, 100);
        return due.length;
      });
    },
    readSyncState(key = CHANGES_SYNC_KEY) {
      return wrap("readSyncState", () => {
        const state = syncStates.get(key);
        return state ? { ...state } : null;
      });
    },
    recordChangesSync({ key = CHANGES_SYNC_KEY, watermark, runId, error }) {
      return wrap("recordChangesSync", () => {
        calls.push({ method: "recordChangesSync", args: [key, watermark, runId, error] });
        const state = syncStates.get(key) ??
          {
            key,
            last_sync_at: null,
            changes_watermark: null,
            last_run_id: null,
            last_error: null,
          };
        state.last_sync_at = new Date(clock.now());
        if (
          watermark !== null &&
          (state.changes_watermark === null || watermark > state.changes_watermark)
        ) {
          state.changes_watermark = watermark;
        }
        state.last_run_id = runId;
        state.last_error = error;
        syncStates.set(key, state);
      });
    },
  };
}
