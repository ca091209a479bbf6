/**
 * `POST /functions/v1/refresh-worker`: drain `public.refresh_queue` within a time budget,
 * re-fetching each queued movie from TMDB and storing it. Called every 10 minutes by
 * `public.call_refresh_worker()` through pg_net, or directly.
 *
 * Request (JSON, unknown keys rejected; `{}` is fine):
 * `{ "run_id": "<uuid>", "trigger": "cron", "job_name": "refresh_worker",
 *    "batch_size": 10, "budget_ms": 110000 }`
 * - `batch_size`: integer 1..50, default 10: items claimed per batch;
 * - `budget_ms`: integer 1000..140000, default 110000: no batch is started when less time
 *   than a batch is expected to take is left, and no TMDB attempt runs past it;
 * - `run_id` (uuid, generated when absent), `trigger` (`cron` | `manual`, default
 *   `manual`), `job_name` (≤ 100 characters or null).
 *
 * How a run goes: the worker id is `refresh-worker:<run_id>`. {@link DEFAULT_LOOPS} batch
 * loops run at once (so one slow movie does not idle the TMDB budget; the shared rate
 * limiter and its connection cap keep TMDB at ≤ 40 requests/s). Each loop claims its first
 * batch (`claim_refresh_batch`, one round trip, with a lease longer than the whole budget so
 * no item is re-claimed while this run holds it), refreshes its items concurrently
 * in-process with the shared ingest code (`ingestOne`: one TMDB request with
 * append_to_response, then `ingest_movie`; a TMDB 404 marks the movie not found and
 * completes the item as `not_found`), and then finishes the batch AND claims the next one in
 * a single round trip (`finish_and_claim_refresh_batch`), so each further batch costs one
 * round trip and one commit. When the loop should not start another batch (the budget left
 * is too short, the run stopped early, another loop failed or found the queue empty) that
 * call asks for 0 items: it only finishes. Loops stop when a claim comes back empty or the
 * budget is too short for another batch.
 *
 * Failed items are reported `retryable: true` with the error text: the queue retries them
 * with backoff and marks them `failed` after its attempt cap (3). That includes
 * `invalid_response` and `bad_request`, which a later TMDB answer may fix.
 *
 * The run stops early when TMDB as a whole fails, so one outage does not spend the attempts
 * of the whole queue: it claims no further batch, aborts the TMDB calls in flight, finishes
 * the in-hand items as retryable failures with the reason, and answers 502:
 * - TMDB answers 401: `tmdb_unauthorized`, the credentials message;
 * - {@link TMDB_BREAKER_THRESHOLD} items in a row fail with `network`, `timeout`,
 *   `server_error` or `rate_limited` (after the client's retries) with no TMDB answer in
 *   between (a movie or a 404 resets the count; other TMDB errors neither count nor reset):
 *   `tmdb_unavailable`, see {@link tmdbUnavailableMessage}. At most the items in hand when
 *   it trips (loops × batch_size) lose an attempt.
 *
 * 200: the {@link RefreshWorkerSummary}. 502: the summary plus
 * `{error: "tmdb_unauthorized" | "tmdb_unavailable", message, request_id}`, with
 * `stopped_because` the same code. Other errors: `{ error, message, request_id }` with
 * 400 / 401 / 405 / 413 / 415 / 500.
 *
 * One JSON log line per run (`refresh_worker_run`), plus the shared `movie_failed` lines.
 *
 * @module
 */

import type { z } from "zod";
import { bodyObject, intInRange, runFields } from "../_shared/body_fields.ts";
import type { CatalogStore } from "../_shared/catalog_store.ts";
import {
  type BaseHandlerDeps,
  createJsonHandler,
  type HandleContext,
  type LazyHandlerDeps as LazyDeps,
} from "../_shared/handler.ts";
import { jsonResponse } from "../_shared/http.ts";
import { ingestOne, type PerMovieResult } from "../_shared/ingest.ts";
import { redactString } from "../_shared/logger.ts";
import type {
  ClaimedItem,
  QueueStats,
  RefreshItemResult,
  RefreshQueue,
} from "../_shared/refresh_queue.ts";
import { type TmdbClient, TmdbError } from "../_shared/tmdb_client.ts";
import { type BreakerTrip, TmdbBreaker, tmdbUnauthorizedMessage } from "../_shared/tmdb_outage.ts";

export { tmdbUnauthorizedMessage };

/** The function's name (folder), used in logs, API log rows and the worker id. */
export const FUNCTION_NAME = "refresh-worker";

/** Bounds and default of `batch_size`. */
export const BATCH_SIZE = { min: 1, max: 50, default: 10 } as const;

/** Bounds and default of `budget_ms` (pg_net waits 150 s). */
export const BUDGET_MS = { min: 1_000, max: 140_000, default: 110_000 } as const;

/** Batch loops run at once. */
export const DEFAULT_LOOPS = 4;

/** No batch starts with less than this much budget left (or half the budget, if smaller). */
export const DEFAULT_MIN_BATCH_MS = 2_000;

/** The lease is the whole budget plus this margin (for the last SQL calls). */
export const LEASE_MARGIN_SECONDS = 30;

/**
 * Items in a row whose TMDB call failed with `network`, `timeout`, `server_error` or
 * `rate_limited` (each after the client's own retries), with no TMDB answer in between,
 * that stop the run as `tmdb_unavailable`.
 */
export const TMDB_BREAKER_THRESHOLD = 10;

/** Most item errors echoed in the response and the log line. */
const MAX_ITEM_ERRORS = 20;

/**
 * The message of a run stopped because TMDB kept failing (also the error of the items that
 * were in flight when it stopped).
 *
 * @example
 * tmdbUnavailableMessage({ failures: 10, kind: "network", message: "TMDB GET /movie/7 failed: …" });
 * // "TMDB is unreachable or failing: 10 items in a row failed (network: TMDB GET /movie/7
 * //  failed: …); the run stopped early so the rest of the queue keeps its attempts"
 */
export function tmdbUnavailableMessage(trip: BreakerTrip): string {
  return `TMDB is unreachable or failing: ${trip.failures} items in a row failed ` +
    `(${trip.kind}: ${trip.message}); the run stopped early so the rest of the queue keeps ` +
    `its attempts`;
}

/** The request body. */
export const refreshWorkerBodySchema = bodyObject({
  batch_size: intInRange("batch_size", BATCH_SIZE.min, BATCH_SIZE.max).default(
    BATCH_SIZE.default,
  ),
  budget_ms: intInRange("budget_ms", BUDGET_MS.min, BUDGET_MS.max).default(BUDGET_MS.default),
  ...runFields,
});

/** A parsed request body. */
export type RefreshWorkerBody = z.infer<typeof refreshWorkerBodySchema>;

/** Why the worker stopped. */
export type StoppedBecause = "queue_empty" | "budget" | "tmdb_unauthorized" | "tmdb_unavailable";

/** A failed item, as echoed in the summary. */
export interface ItemError {
  /** Queue row id. */
  queue_id: number;
  /** TMDB id. */
  tmdb_id: number;
  /** The attempt that failed. */
  attempt: number;
  /** What went wrong. */
  error: string;
  /** Whether the queue may try again. */
  retryable: boolean;
}

/** The response body (200 and 502). */
export interface RefreshWorkerSummary {
  /** The run id (also on the API log rows). */
  run_id: string;
  /** `refresh-worker:<run_id>`, the `locked_by` of the claimed rows. */
  worker_id: string;
  /** `cron` or `manual`. */
  trigger: "cron" | "manual";
  /** The cron job, when there is one. */
  job_name: string | null;
  /** Batches claimed (non-empty). */
  batches: number;
  /** Items claimed. */
  claimed: number;
  /** Items whose movie was inserted or updated. */
  refreshed: number;
  /** Items whose movie had not changed. */
  unchanged: number;
  /** Items whose movie TMDB no longer knows (marked not found, completed). */
  not_found: number;
  /** Failed items the queue will try again. */
  retried: number;
  /** Failed items the queue gave up on. */
  failed: number;
  /** Results the queue ignored because the lease was lost. */
  lost_lease: number;
  /** Why the worker stopped. */
  stopped_because: StoppedBecause;
  /** Up to 20 failed items. */
  item_errors: ItemError[];
  /** `refresh_queue_stats()` at the end. */
  queue: QueueStats;
  /** TMDB calls made (one per item; the client's HTTP retries are not counted). */
  tmdb_requests: number;
  /** Wall time of the run. */
  duration_ms: number;
}

/** What the handler needs (the real ones come from `_shared/runtime.ts`). */
export interface HandlerDeps extends BaseHandlerDeps {
  /** A TMDB client for one run; its `flushLogs()` is awaited before answering. */
  tmdbFor(runId: string): Pick<TmdbClient, "movieDetails" | "flushLogs">;
  /** Where movies are written. */
  store: CatalogStore;
  /** The refresh queue. */
  queue: RefreshQueue;
  /** Batch loops run at once. Default {@link DEFAULT_LOOPS}. */
  loops?: number;
  /** Least budget left to start a batch. Default {@link DEFAULT_MIN_BATCH_MS}. */
  minBatchMs?: number;
  /** Outage failures in a row that stop the run. Default {@link TMDB_BREAKER_THRESHOLD}. */
  breakerThreshold?: number;
}

/** Dependencies resolved per request, e.g. `() => getRuntime(FUNCTION_NAME)`. */
export type LazyHandlerDeps = LazyDeps<HandlerDeps>;

/** Counters shared by the batch loops. */
interface RunState {
  batches: number;
  claimed: number;
  refreshed: number;
  unchanged: number;
  notFound: number;
  retried: number;
  failed: number;
  lostLease: number;
  tmdbRequests: number;
  queueEmpty: boolean;
  /** TMDB answered 401 (stops the run). */
  unauthorized: TmdbError | null;
  /** The breaker tripped (stops the run, unless a 401 already did). */
  unavailable: BreakerTrip | null;
  fatal: unknown;
  itemErrors: ItemError[];
}

/** The queue result of one refreshed item. */
function toResult(
  item: ClaimedItem,
  outcome: PerMovieResult,
  stop: Pick<RunState, "unauthorized" | "unavailable">,
  secrets: readonly string[],
): RefreshItemResult {
  const base = { queue_id: item.queue_id, attempt: item.attempt };
  switch (outcome.outcome) {
    case "inserted":
    case "updated":
      return { ...base, ok: true, result: "refreshed" };
    case "unchanged":
      return { ...base, ok: true, result: "unchanged" };
    case "not_found":
      return { ...base, ok: true, result: "not_found" };
    default: {
      const kind = outcome.error?.kind ?? "internal";
      // An item cut short by a stopped run carries the reason the run stopped.
      const error = stop.unauthorized !== null && (kind === "unauthorized" || kind === "aborted")
        ? tmdbUnauthorizedMessage(stop.unauthorized)
        : stop.unavailable !== null && kind === "aborted"
        ? tmdbUnavailableMessage(stop.unavailable)
        : `${kind}: ${outcome.error?.message ?? "not refreshed"}`;
      // Every failure may be retried: the queue caps attempts (3) and then marks it failed.
      // invalid_response / bad_request included: TMDB may answer properly next time.
      return {
        ...base,
        ok: false,
        error: redactString(error, secrets).slice(0, 2000),
        retryable: kind !== "invalid_id",
      };
    }
  }
}

/**
 * Creates the `refresh-worker` request handler. Pass the dependencies directly (tests) or as
 * `{ getDeps }` (production, so a configuration error becomes a 500 `misconfigured`).
 */
export function createHandler(
  source: HandlerDeps | LazyHandlerDeps,
): (req: Request) => Promise<Response> {
  return createJsonHandler({
    fn: FUNCTION_NAME,
    schema: refreshWorkerBodySchema,
    source,
    handle: drain,
  });
}

/** Drains the queue within the budget and answers the {@link RefreshWorkerSummary}. */
async function drain(context: HandleContext<HandlerDeps, RefreshWorkerBody>): Promise<Response> {
  const { body, deps, requestId, clock, secrets, startRun } = context;
  const { queue, store } = deps;
  const start = clock.now();
  const { runId, logger } = startRun(body.run_id);
  const workerId = `${FUNCTION_NAME}:${runId}`;
  const hardDeadline = start + body.budget_ms;
  const leaseSeconds = Math.ceil(body.budget_ms / 1000) + LEASE_MARGIN_SECONDS;
  const minBatchMs = Math.min(deps.minBatchMs ?? DEFAULT_MIN_BATCH_MS, body.budget_ms / 2);
  const loops = deps.loops ?? DEFAULT_LOOPS;

  const state: RunState = {
    batches: 0,
    claimed: 0,
    refreshed: 0,
    unchanged: 0,
    notFound: 0,
    retried: 0,
    failed: 0,
    lostLease: 0,
    tmdbRequests: 0,
    queueEmpty: false,
    unauthorized: null,
    unavailable: null,
    fatal: undefined,
    itemErrors: [],
  };
  // Aborted when the run stops early (401 or the breaker): no new batch, no new TMDB call,
  // and the calls in flight end at once.
  const abort = new AbortController();
  const breaker = new TmdbBreaker(deps.breakerThreshold ?? TMDB_BREAKER_THRESHOLD);
  const tmdb = deps.tmdbFor(runId);
  // Counts calls, and stops every call at the first 401 or when the breaker trips: the rest
  // would fail the same way, each spending one of its item's attempts.
  const guarded: Pick<TmdbClient, "movieDetails"> = {
    async movieDetails(id, opts) {
      if (abort.signal.aborted) throw abort.signal.reason;
      state.tmdbRequests++;
      try {
        const movie = await tmdb.movieDetails(id, opts);
        breaker.success();
        return movie;
      } catch (error) {
        if (error instanceof TmdbError && error.kind === "unauthorized") {
          state.unauthorized ??= error;
          abort.abort(new Error("TMDB rejected the credentials"));
        } else if (breaker.failure(error) && !abort.signal.aborted) {
          state.unavailable = breaker.tripped;
          abort.abort(new Error("TMDB is unreachable or failing"));
        }
        throw error;
      }
    },
  };
  let longestBatchMs = 0;
  // Whether a loop may start another batch now (checked before each claim).
  const mayStartBatch = (): boolean =>
    !abort.signal.aborted && state.fatal === undefined && !state.queueEmpty &&
    hardDeadline - clock.now() >= Math.max(minBatchMs, longestBatchMs);

  const loop = async (): Promise<void> => {
    if (!mayStartBatch()) return;
    // The first batch is claimed alone; every later one comes with the previous finish.
    let items = await queue.claimBatch(workerId, { batchSize: body.batch_size, leaseSeconds });
    for (;;) {
      if (items.length === 0) {
        state.queueEmpty = true;
        return;
      }
      const batchStart = clock.now();
      state.batches++;
      state.claimed += items.length;
      const results = await Promise.all(items.map(async (item) => {
        const outcome = await ingestOne(item.tmdb_id, {
          tmdb: guarded,
          store,
          logger,
          clock,
          hardDeadline,
          signal: abort.signal,
        });
        return { item, outcome };
      }));
      const finished = results.map(({ item, outcome }) => toResult(item, outcome, state, secrets));
      for (const [i, r] of finished.entries()) {
        if (r.ok) {
          if (r.result === "refreshed") state.refreshed++;
          else if (r.result === "unchanged") state.unchanged++;
          else state.notFound++;
        } else if (state.itemErrors.length < MAX_ITEM_ERRORS) {
          state.itemErrors.push({
            queue_id: r.queue_id,
            tmdb_id: results[i].item.tmdb_id,
            attempt: r.attempt,
            error: r.error ?? "",
            retryable: r.retryable ?? true,
          });
        }
      }
      longestBatchMs = Math.max(longestBatchMs, clock.now() - batchStart);
      // One round trip finishes this batch and claims the next (0 items: finish only).
      const next = mayStartBatch();
      const { finished: counts, claimed } = await queue.finishAndClaim(workerId, finished, {
        batchSize: next ? body.batch_size : 0,
        leaseSeconds,
      });
      state.retried += counts.retried;
      state.failed += counts.failed;
      state.lostLease += counts.lost_lease;
      if (!next) return;
      items = claimed;
    }
  };

  try {
    await Promise.all(
      Array.from({ length: loops }, () =>
        loop().catch((error) => {
          state.fatal ??= error;
        })),
    );
  } finally {
    await tmdb.flushLogs();
  }
  if (state.fatal !== undefined) {
    logger.error("refresh_worker_failed", {
      worker_id: workerId,
      batches: state.batches,
      claimed: state.claimed,
      error: state.fatal,
    });
    throw state.fatal;
  }

  // Why the run stopped early, if it did (a 401 says more than the breaker: it wins).
  const stop: { error: "tmdb_unauthorized" | "tmdb_unavailable"; message: string } | null =
    state.unauthorized !== null
      ? { error: "tmdb_unauthorized", message: tmdbUnauthorizedMessage(state.unauthorized) }
      : state.unavailable !== null
      ? {
        error: "tmdb_unavailable",
        message: redactString(tmdbUnavailableMessage(state.unavailable), secrets),
      }
      : null;
  const stats = await queue.stats();
  const summary: RefreshWorkerSummary = {
    run_id: runId,
    worker_id: workerId,
    trigger: body.trigger,
    job_name: body.job_name ?? null,
    batches: state.batches,
    claimed: state.claimed,
    refreshed: state.refreshed,
    unchanged: state.unchanged,
    not_found: state.notFound,
    retried: state.retried,
    failed: state.failed,
    lost_lease: state.lostLease,
    stopped_because: stop?.error ?? (state.queueEmpty ? "queue_empty" : "budget"),
    item_errors: state.itemErrors,
    queue: stats,
    tmdb_requests: state.tmdbRequests,
    duration_ms: Math.max(0, Math.round(clock.now() - start)),
  };
  if (stop !== null) {
    logger.error("refresh_worker_run", { status: 502, ...stop, ...summary });
    return jsonResponse({ ...stop, request_id: requestId, ...summary }, { status: 502 });
  }
  logger.info("refresh_worker_run", { status: 200, ...summary });
  return jsonResponse(summary);
}
