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
 * limiter and its connection cap keep TMDB at ≤ 40 requests/s). Each loop claims a batch
 * (`claim_refresh_batch`, one round trip, with a lease longer than the whole budget so no
 * item is re-claimed while this run holds it), refreshes its items concurrently in-process
 * with the shared ingest code (`ingestOne`: one TMDB request with append_to_response, then
 * `ingest_movie`; a TMDB 404 marks the movie not found and completes the item as
 * `not_found`), and finishes the batch in one round trip (`finish_refresh_batch`). Loops
 * stop when a claim comes back empty or the budget is too short for another batch.
 *
 * Failed items are reported `retryable: true` with the error text: the queue retries them
 * with backoff and marks them `failed` after its attempt cap (3). That includes
 * `invalid_response` and `bad_request`, which a later TMDB answer may fix. If TMDB answers
 * 401 the run stops claiming, the in-hand items fail (retryable) with the credentials
 * message, and the answer is 502.
 *
 * 200: the {@link RefreshWorkerSummary}. 502: the summary plus
 * `{error: "tmdb_unauthorized", message, request_id}`. Other errors:
 * `{ error, message, request_id }` with 400 / 401 / 405 / 413 / 415 / 500.
 *
 * One JSON log line per run (`refresh_worker_run`), plus the shared `movie_failed` lines.
 *
 * @module
 */

import { z } from "zod";
import { authorize } from "../_shared/auth.ts";
import type { CatalogStore } from "../_shared/catalog_store.ts";
import { type Clock, systemClock } from "../_shared/clock.ts";
import {
  errorResponse,
  HttpError,
  jsonResponse,
  readJsonBody,
  requestIdOf,
  requireMethod,
} from "../_shared/http.ts";
import { ingestOne, type PerMovieResult } from "../_shared/ingest.ts";
import { createLogger, type Logger, redactString } from "../_shared/logger.ts";
import type {
  ClaimedItem,
  QueueStats,
  RefreshItemResult,
  RefreshQueue,
} from "../_shared/refresh_queue.ts";
import { type TmdbClient, TmdbError } from "../_shared/tmdb_client.ts";

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

/** Most item errors echoed in the response and the log line. */
const MAX_ITEM_ERRORS = 20;

/** The message of a run stopped because TMDB answered 401. */
export function tmdbUnauthorizedMessage(error: TmdbError): string {
  const code = error.statusCode !== null
    ? `status_code ${error.statusCode}`
    : `HTTP ${error.httpStatus ?? 401}`;
  return `TMDB rejected the credentials (${code}): check TMDB_API_TOKEN`;
}

const intInRange = (name: string, min: number, max: number) =>
  z.number({
    errorMap: (_issue, ctx) => ({
      message: `${name} must be an integer between ${min} and ${max}: current value is ${
        JSON.stringify(ctx.data) ?? "undefined"
      }`,
    }),
  }).int().min(min).max(max);

/** The request body. */
export const refreshWorkerBodySchema = z.object({
  batch_size: intInRange("batch_size", BATCH_SIZE.min, BATCH_SIZE.max).default(
    BATCH_SIZE.default,
  ),
  budget_ms: intInRange("budget_ms", BUDGET_MS.min, BUDGET_MS.max).default(BUDGET_MS.default),
  run_id: z.string().uuid("run_id must be a uuid").optional(),
  trigger: z.enum(["cron", "manual"], {
    errorMap: () => ({ message: "trigger must be 'cron' or 'manual'" }),
  }).default("manual"),
  job_name: z.string().max(100, "job_name must be at most 100 characters").nullable()
    .optional(),
}, { invalid_type_error: "Expected a JSON object" }).strict();

/** A parsed request body. */
export type RefreshWorkerBody = z.infer<typeof refreshWorkerBodySchema>;

/** Why the worker stopped. */
export type StoppedBecause = "queue_empty" | "budget" | "tmdb_unauthorized";

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
export interface HandlerDeps {
  /** Keys a caller may present. */
  allowedKeys: readonly string[];
  /** A TMDB client for one run; its `flushLogs()` is awaited before answering. */
  tmdbFor(runId: string): Pick<TmdbClient, "movieDetails" | "flushLogs">;
  /** Where movies are written. */
  store: CatalogStore;
  /** The refresh queue. */
  queue: RefreshQueue;
  /** Request and failure logs. */
  logger: Logger;
  /** Default system clock. */
  clock?: Clock;
  /** Run ids when the body has none. Default `crypto.randomUUID()`. */
  newRunId?: () => string;
  /** Secret values to redact from response bodies (the logger redacts its own). */
  secrets?: readonly string[];
  /** Batch loops run at once. Default {@link DEFAULT_LOOPS}. */
  loops?: number;
  /** Least budget left to start a batch. Default {@link DEFAULT_MIN_BATCH_MS}. */
  minBatchMs?: number;
}

/** Dependencies resolved per request, e.g. `() => getRuntime(FUNCTION_NAME)`. */
export interface LazyHandlerDeps {
  /** Returns (or throws `ConfigError`) the dependencies; called on every request. */
  getDeps(): HandlerDeps | Promise<HandlerDeps>;
  /** Logs requests that fail before `getDeps` succeeds. Default: a plain JSON logger. */
  logger?: Logger;
}

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
  unauthorized: TmdbError | null;
  fatal: unknown;
  itemErrors: ItemError[];
}

/** The queue result of one refreshed item. */
function toResult(
  item: ClaimedItem,
  outcome: PerMovieResult,
  unauthorized: TmdbError | null,
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
      const error = unauthorized !== null && (kind === "unauthorized" || kind === "aborted")
        ? tmdbUnauthorizedMessage(unauthorized)
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
  const fallbackLogger = source.logger ?? createLogger({ fn: FUNCTION_NAME });

  return async (req: Request): Promise<Response> => {
    const requestId = requestIdOf(req);
    let deps: HandlerDeps | undefined;
    let runId: string | undefined;
    try {
      requireMethod(req, ["POST"]);
      deps = "getDeps" in source ? await source.getDeps() : source;
      authorize(req, deps.allowedKeys);
      const body = await readJsonBody(req, refreshWorkerBodySchema);

      const clock = deps.clock ?? systemClock;
      const secrets = deps.secrets ?? [];
      const { queue, store } = deps;
      const start = clock.now();
      runId = body.run_id ?? deps.newRunId?.() ?? crypto.randomUUID();
      const workerId = `${FUNCTION_NAME}:${runId}`;
      const logger = deps.logger.child({ request_id: requestId, run_id: runId });
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
        fatal: undefined,
        itemErrors: [],
      };
      const abort = new AbortController();
      const tmdb = deps.tmdbFor(runId);
      // Counts calls, and stops every call at the first 401: the rest would fail the same way.
      const guarded: Pick<TmdbClient, "movieDetails"> = {
        async movieDetails(id, opts) {
          if (abort.signal.aborted) throw abort.signal.reason;
          state.tmdbRequests++;
          try {
            return await tmdb.movieDetails(id, opts);
          } catch (error) {
            if (error instanceof TmdbError && error.kind === "unauthorized") {
              state.unauthorized ??= error;
              abort.abort(new Error("TMDB rejected the credentials"));
            }
            throw error;
          }
        },
      };
      let longestBatchMs = 0;

      const loop = async (): Promise<void> => {
        for (;;) {
          if (state.unauthorized !== null || state.fatal !== undefined || state.queueEmpty) return;
          const left = hardDeadline - clock.now();
          if (left < Math.max(minBatchMs, longestBatchMs)) return;
          const items = await queue.claimBatch(workerId, {
            batchSize: body.batch_size,
            leaseSeconds,
          });
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
          const finished = results.map(({ item, outcome }) =>
            toResult(item, outcome, state.unauthorized, secrets)
          );
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
          const counts = await queue.finishBatch(workerId, finished);
          state.retried += counts.retried;
          state.failed += counts.failed;
          state.lostLease += counts.lost_lease;
          longestBatchMs = Math.max(longestBatchMs, clock.now() - batchStart);
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
        stopped_because: state.unauthorized !== null
          ? "tmdb_unauthorized"
          : state.queueEmpty
          ? "queue_empty"
          : "budget",
        item_errors: state.itemErrors,
        queue: stats,
        tmdb_requests: state.tmdbRequests,
        duration_ms: Math.max(0, Math.round(clock.now() - start)),
      };
      if (state.unauthorized !== null) {
        const message = tmdbUnauthorizedMessage(state.unauthorized);
        logger.error("refresh_worker_run", {
          status: 502,
          error: "tmdb_unauthorized",
          message,
          ...summary,
        });
        return jsonResponse(
          { error: "tmdb_unauthorized", message, request_id: requestId, ...summary },
          { status: 502 },
        );
      }
      logger.info("refresh_worker_run", { status: 200, ...summary });
      return jsonResponse(summary);
    } catch (error) {
      const logger = deps?.logger ?? fallbackLogger;
      const res = errorResponse(error, { requestId, logger, secrets: deps?.secrets ?? [] });
      if (error instanceof HttpError && error.status < 500) {
        logger.warn("request_failed", {
          request_id: requestId,
          ...(runId ? { run_id: runId } : {}),
          method: req.method,
          status: res.status,
          error: error.code,
          message: error.message,
        });
      }
      return res;
    }
  };
}
