/**
 * `POST /functions/v1/refresh-worker`: drain `public.refresh_queue` within a wall-clock and
 * a CPU budget (`refresh_drain.ts`), then hand over to the next run of its chain when work
 * is left (`public.continue_refresh_worker`). Called every 10 minutes by
 * `public.call_refresh_worker()` through pg_net, or by an operator.
 * docs/functions.md#refresh-worker has the request, the budgets, chains and the answers.
 *
 * @module
 */

import { z } from "zod";
import { bodyObject, intInRange, runFields } from "../_shared/http/body_fields.ts";
import {
  type BaseHandlerDeps,
  defineHandler,
  type HandleContext,
} from "../_shared/http/handler.ts";
import { jsonResponse, RunError } from "../_shared/http/response.ts";
import type { Continuation, QueueStats, WorkerQueue } from "../_shared/store/refresh_queue.ts";
import type { TmdbClient } from "../_shared/tmdb/client.ts";
import type { Drift } from "../_shared/tmdb/policy.ts";
import { drainQueue, type ItemError, type StoppedBecause } from "./refresh_drain.ts";

/** The function's name (folder), used in logs, API log rows and the worker id. */
export const FUNCTION_NAME = "refresh-worker";

/** Bounds and default of `batch_size`. */
export const BATCH_SIZE = { min: 1, max: 50, default: 20 } as const;

/** Bounds and default of `budget_ms` (pg_net waits 150 s). */
export const BUDGET_MS = { min: 1_000, max: 140_000, default: 110_000 } as const;

/**
 * Batch loops run at once: two, so one loop's database step overlaps the other's TMDB calls
 * (more loops only add event-loop wake-ups, i.e. CPU: docs/functions.md).
 */
export const DEFAULT_LOOPS = 2;

/** No batch starts with less than this much budget left (or half the budget, if smaller). */
export const DEFAULT_MIN_BATCH_MS = 2_000;

/** The lease is the whole budget plus this margin (for the last SQL calls). */
export const LEASE_MARGIN_SECONDS = 30;

/** Outage failures in a row that stop the run as `tmdb_unavailable` (`TmdbBreaker`). */
export const TMDB_BREAKER_THRESHOLD = 10;

/**
 * Bounds of `cpu_budget_ms` (hosted Supabase kills a function at 2000 ms); without it the
 * function's configured budget applies (`EDGE_CPU_BUDGET_MS`, default 1400).
 */
export const CPU_BUDGET_MS = { min: 10, max: 1_900 } as const;

/** The request body. */
export const refreshWorkerBodySchema = bodyObject({
  batch_size: intInRange("batch_size", BATCH_SIZE.min, BATCH_SIZE.max).default(
    BATCH_SIZE.default,
  ),
  budget_ms: intInRange("budget_ms", BUDGET_MS.min, BUDGET_MS.max).default(BUDGET_MS.default),
  cpu_budget_ms: intInRange("cpu_budget_ms", CPU_BUDGET_MS.min, CPU_BUDGET_MS.max).optional(),
  chain_id: z.string().uuid("chain_id must be a uuid").optional(),
  chain_link: intInRange("chain_link", 1, 1_000_000).optional(),
  ...runFields,
  // A run started by the previous run of its chain (public.continue_refresh_worker).
  trigger: z.enum(["cron", "manual", "continuation"], {
    errorMap: () => ({ message: "trigger must be 'cron', 'manual' or 'continuation'" }),
  }).default("manual"),
});

/** A parsed request body. */
export type RefreshWorkerBody = z.infer<typeof refreshWorkerBodySchema>;

/** The response body (200 and 502). */
export interface RefreshWorkerSummary {
  /** The run id (also on the API log rows). */
  run_id: string;
  /** `refresh-worker:<run_id>`, the `locked_by` of the claimed rows. */
  worker_id: string;
  /** `cron`, `manual` or `continuation`. */
  trigger: "cron" | "manual" | "continuation";
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
  /** What the payload policy defaulted in the stored movies (docs/schema.md). */
  drift: Drift;
  /** `refresh_queue_stats()` at the end. */
  queue: QueueStats;
  /** TMDB calls made (one per item; the client's HTTP retries are not counted). */
  tmdb_requests: number;
  /** The chain of runs: its first run's id and this run's place in it. */
  chain: { id: string; link: number };
  /**
   * Whether this run queued the next one (only tried after stopping for a budget; `null`
   * otherwise): `{continued, reason, request_id?, run_id?}`.
   */
  continuation: Continuation | null;
  /**
   * CPU the function's process has used, in ms, as the budget sees it (`cpu_measured` false:
   * estimated from the work done).
   */
  cpu_ms: number;
  /** Whether `cpu_ms` was measured. */
  cpu_measured: boolean;
  /** Wall time of the run. */
  duration_ms: number;
}

/** What the handler needs (the real ones come from `_shared/runtime.ts`). */
export interface HandlerDeps extends BaseHandlerDeps {
  /** A TMDB client for one run; its `flushLogs()` is awaited before answering. */
  tmdbFor(runId: string): Pick<TmdbClient, "movieDetailsText" | "flushLogs">;
  /** The refresh queue (its step also stores the movies). */
  queue: WorkerQueue;
  /** Batch loops run at once. Default {@link DEFAULT_LOOPS}. */
  loops?: number;
  /** Least budget left to start a batch. Default {@link DEFAULT_MIN_BATCH_MS}. */
  minBatchMs?: number;
  /** Outage failures in a row that stop the run. Default {@link TMDB_BREAKER_THRESHOLD}. */
  breakerThreshold?: number;
}

/** The `refresh-worker` request handler, over its dependencies (see `defineHandler`). */
export const createHandler = defineHandler<HandlerDeps, RefreshWorkerBody>({
  fn: FUNCTION_NAME,
  schema: refreshWorkerBodySchema,
  handle: drain,
});

/** Drains the queue within the budgets and answers the {@link RefreshWorkerSummary}. */
async function drain(context: HandleContext<HandlerDeps, RefreshWorkerBody>): Promise<Response> {
  const { body, deps, clock, secrets, startRun, cpu } = context;
  const cpuBudgetMs = body.cpu_budget_ms ?? context.cpuBudgetMs;
  const start = clock.now();
  const { runId, logger } = startRun(body.run_id);
  const workerId = `${FUNCTION_NAME}:${runId}`;
  const tmdb = deps.tmdbFor(runId);
  let report;
  try {
    report = await drainQueue({ queue: deps.queue, tmdb, clock, cpu, secrets }, {
      worker: workerId,
      runId,
      batchSize: body.batch_size,
      // The lease outlives the whole budget, so no item is re-claimed while this run holds it.
      leaseSeconds: Math.ceil(body.budget_ms / 1000) + LEASE_MARGIN_SECONDS,
      loops: deps.loops ?? DEFAULT_LOOPS,
      deadline: start + body.budget_ms,
      minBatchMs: Math.min(deps.minBatchMs ?? DEFAULT_MIN_BATCH_MS, body.budget_ms / 2),
      cpuBudgetMs,
      breakerThreshold: deps.breakerThreshold ?? TMDB_BREAKER_THRESHOLD,
    });
  } catch (error) {
    logger.error("refresh_worker_failed", { worker_id: workerId, error });
    throw error;
  } finally {
    await tmdb.flushLogs();
  }

  // A run that stopped for a budget hands over to the next run of its chain.
  const chain = { id: body.chain_id ?? runId, link: body.chain_link ?? 1 };
  let continuation: Continuation | null = null;
  if (report.stoppedBecause === "budget" || report.stoppedBecause === "cpu_budget") {
    try {
      continuation = await deps.queue.continueRun({
        runId,
        chainId: chain.id,
        chainLink: chain.link,
        body: {
          batch_size: body.batch_size,
          budget_ms: body.budget_ms,
          ...(body.cpu_budget_ms !== undefined ? { cpu_budget_ms: body.cpu_budget_ms } : {}),
        },
      });
    } catch (error) {
      // The run's work is done and recorded; the next cron firing starts a new chain.
      logger.error("refresh_worker_continuation_failed", { error });
      continuation = { continued: false, reason: "error" };
    }
  }
  const stats = await deps.queue.stats();
  const summary: RefreshWorkerSummary = {
    run_id: runId,
    worker_id: workerId,
    trigger: body.trigger,
    job_name: body.job_name ?? null,
    batches: report.batches,
    claimed: report.claimed,
    refreshed: report.refreshed,
    unchanged: report.unchanged,
    not_found: report.notFound,
    retried: report.retried,
    failed: report.failed,
    lost_lease: report.lostLease,
    stopped_because: report.stoppedBecause,
    item_errors: report.itemErrors,
    drift: report.drift,
    queue: stats,
    tmdb_requests: report.tmdbRequests,
    chain,
    continuation,
    cpu_ms: Math.round(cpu.usedMs()),
    cpu_measured: cpu.measured,
    duration_ms: Math.max(0, Math.round(clock.now() - start)),
  };
  if (report.stop !== null) {
    logger.error("refresh_worker_run", { status: 502, ...report.stop, ...summary });
    throw new RunError(502, report.stop.error, report.stop.message, summary);
  }
  logger.info("refresh_worker_run", { status: 200, ...summary });
  return jsonResponse(summary);
}
