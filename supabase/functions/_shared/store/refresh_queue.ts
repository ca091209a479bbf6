/**
 * The refresh queue (`public.refresh_queue`) and the changes-feed watermark
 * (`public.sync_state`): {@link RefreshQueue} as `daily-refresh` fills it,
 * {@link WorkerQueue} as `refresh-worker` drains it.
 *
 * The rules that must hold under concurrency (claiming with `for update skip locked`,
 * leases, attempt caps, the 12 h floor, dedupe of active items, a watermark that only moves
 * forward) live in SQL functions; each method here is one round trip calling one of them.
 * A worker's whole database step for a batch (store its TMDB answers, finish it, claim the
 * next) is one call of `public.refresh_worker_step`.
 *
 * @module
 */

import type postgres from "postgres";
import { z } from "zod";
import {
  answersParameters,
  driftSchema,
  type StoredMovie,
  storedMovieSchema,
  type TmdbAnswer,
} from "./catalog.ts";
import { intArrayLiteral } from "./ingestion_runs.ts";
import { parseSqlResult } from "../platform/db.ts";
import type { Drift } from "../tmdb/policy.ts";

/** The `sync_state` key of the TMDB movie changes feed. */
export const CHANGES_SYNC_KEY = "tmdb_movie_changes";

/** An item handed to a worker by {@link RefreshQueue.claimBatch}. */
export interface ClaimedItem {
  /** The queue row id. */
  queue_id: number;
  /** The catalog work id, or `null` for a movie queued as new (not in the catalog yet). */
  work_id: number | null;
  /** The TMDB movie id to refresh. */
  tmdb_id: number;
  /** Which attempt this is (1 for the first claim). */
  attempt: number;
}

/** What a refresh of one item ended with, when it succeeded. */
export type RefreshResultKind = "refreshed" | "unchanged" | "not_found";

/**
 * A claimed item as the worker hands it back: with TMDB's answer (stored in the same round
 * trip) or with why there is none.
 */
export type WorkerItem =
  & Pick<ClaimedItem, "queue_id" | "attempt">
  & ({ answer: TmdbAnswer } | { error: string; retryable: boolean });

/** What the queue did with a finished batch (SQL's jsonb, known keys parsed). */
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

/** A stored answer of a worker step, with its queue row. */
export interface StepStored extends StoredMovie {
  /** The queue row. */
  queue_id: number;
}

/** What {@link WorkerQueue.step} returns. */
export interface StepResult {
  /** The answered items as stored (input order). */
  stored: StepStored[];
  /** What the payload policy defaulted in the stored movies. */
  drift: Drift;
  /** The finished batch's counts (all 0 when no items were passed). */
  finished: FinishBatchCounts;
  /** The next batch (empty when `batchSize` was 0 or nothing is ready). */
  claimed: ClaimedItem[];
}

/** Options of {@link WorkerQueue.step}. */
export interface StepOptions {
  /** The run (drift is recorded under it). */
  runId: string;
  /** Most items to claim next (0..1000; 0 = finish only). */
  batchSize: number;
  /** Seconds the claim is held before another worker may take the items. */
  leaseSeconds: number;
}

/** What {@link WorkerQueue.continueRun} decided (`public.continue_refresh_worker`). */
export interface Continuation {
  /** Whether the next run was queued. */
  continued: boolean;
  /** `queued`, or why not: `paused`, `queue_empty`, `chain_limit`, `hourly_cap`. */
  reason: string;
  /** The pg_net request of the next run, when queued. */
  request_id?: number;
  /** The next run's id, when queued. */
  run_id?: string;
}

/** The run a continuation follows. */
export interface ContinueOptions {
  /** This run. */
  runId: string;
  /** The chain's first run. */
  chainId: string;
  /** This run's place in the chain (1 for the first). */
  chainLink: number;
  /** Body fields the next run gets too (its budgets). */
  body: Record<string, unknown>;
}

/** The refresh queue as `refresh-worker` drains it. */
export interface WorkerQueue {
  /**
   * Queues the next run of the chain through pg_net unless a bound says no (one round trip,
   * `public.continue_refresh_worker`).
   */
  continueRun(options: ContinueOptions): Promise<Continuation>;
  /**
   * One round trip (`public.refresh_worker_step`): stores the TMDB answers of `items`,
   * finishes every item's queue row (completed, or failed and retried with its error) and
   * claims up to `batchSize` more for `worker`. `items` may be empty (just claims).
   */
  step(worker: string, items: readonly WorkerItem[], options: StepOptions): Promise<StepResult>;
  /** Counts by status and the like. */
  stats(): Promise<QueueStats>;
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

/** The refresh queue as `daily-refresh` fills it, and the feed state. */
export interface RefreshQueue {
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
  work_id: count.nullable(),
  tmdb_id: z.number().int(),
  attempt: z.number().int(),
});

const finishCountsSchema = z.object({
  completed: count.default(0),
  retried: count.default(0),
  failed: count.default(0),
  lost_lease: count.default(0),
}).passthrough();

const continuationSchema = z.object({
  continued: z.boolean(),
  reason: z.string(),
  request_id: count.optional(),
  run_id: z.string().optional(),
});

const stepSchema = z.object({
  stored: z.array(storedMovieSchema.extend({ queue_id: count })),
  drift: driftSchema,
  finished: finishCountsSchema,
  claimed: z.array(claimedRowSchema),
});

function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A {@link RefreshQueue} and {@link WorkerQueue} over postgres.js: one SQL statement per method. */
export function createPostgresRefreshQueue(sql: postgres.Sql): RefreshQueue & WorkerQueue {
  return {
    async step(worker, items, { runId, batchSize, leaseSeconds }) {
      const answers: TmdbAnswer[] = [];
      for (const item of items) if ("answer" in item) answers.push(item.answer);
      const { responses, bodies, array } = answersParameters(answers, 6);
      let answered = 0;
      const rows = items.map((item) => {
        const claimed = { queue_id: item.queue_id, attempt: item.attempt };
        if (!("answer" in item)) {
          return { ...claimed, error: item.error, retryable: item.retryable };
        }
        return { ...claimed, ...responses[answered++] };
      });
      const result = await sql.unsafe(
        `select public.refresh_worker_step($1::text, $2::uuid, $3::jsonb, ${array}, ` +
          `$4::integer, $5::integer) as r`,
        [worker, runId, rows as unknown as postgres.JSONValue, batchSize, leaseSeconds, ...bodies],
      );
      const value = result[0]?.r;
      const step = parseSqlResult("public.refresh_worker_step", stepSchema, value);
      const { completed, retried, failed, lost_lease } = step.finished;
      return {
        stored: step.stored,
        drift: step.drift,
        finished: { completed, retried, failed, lost_lease },
        claimed: step.claimed,
      };
    },
    async continueRun({ runId, chainId, chainLink, body }) {
      const rows = await sql`
        select public.continue_refresh_worker(
          ${runId}::uuid, ${chainId}::uuid, ${chainLink}::integer,
          ${sql.json(body as postgres.JSONValue)}::jsonb
        ) as r`;
      const value = rows[0]?.r;
      return parseSqlResult("public.continue_refresh_worker", continuationSchema, value);
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
