/**
 * `POST /functions/v1/daily-refresh`: follow TMDB's movie change feed from the saved
 * watermark (`change_feed.ts`) and fill the refresh queue, changed movies first, then the
 * most overdue ones, at most `limit` (1..1000, default 100). Called by
 * `public.call_daily_refresh()` through pg_net, or by an operator. The watermark moves only
 * as far as the feed was read completely. docs/functions.md#daily-refresh has the request,
 * the run, the budgets and the answers.
 *
 * @module
 */

import type { z } from "zod";
import { bodyObject, intInRange, runFields } from "../_shared/http/body_fields.ts";
import {
  type BaseHandlerDeps,
  defineHandler,
  type HandleContext,
} from "../_shared/http/handler.ts";
import { jsonResponse, RunError } from "../_shared/http/response.ts";
import { type QueueStats, type RefreshQueue } from "../_shared/store/refresh_queue.ts";
import type { CatalogStore } from "../_shared/store/catalog.ts";
import { type Drift, prefixDrift } from "../_shared/tmdb/policy.ts";
import type { TmdbClient } from "../_shared/tmdb/client.ts";
import { tmdbUnauthorizedMessage } from "../_shared/tmdb/outage.ts";
import { redactString } from "../_shared/platform/redact.ts";
import { changeWindows, type FeedResult, readChangeFeed } from "./change_feed.ts";

/** The function's name (folder), used in logs and API log rows. */
export const FUNCTION_NAME = "daily-refresh";

/** Bounds and default of `limit`. */
export const LIMIT = { min: 1, max: 1000, default: 100 } as const;

/** Where the feed starts when there is no watermark yet: 24 h before now. */
export const INITIAL_LOOKBACK_MS = 24 * 3_600_000;

/**
 * Time budget from the start of the request: no changes page is requested after
 * `changesMs`; no TMDB attempt or retry runs past `hardMs`.
 */
export const DEFAULT_BUDGET = { changesMs: 40_000, hardMs: 50_000 } as const;

/** The request body. */
export const dailyRefreshBodySchema = bodyObject({
  limit: intInRange("limit", LIMIT.min, LIMIT.max).default(LIMIT.default),
  ...runFields,
});

/** A parsed request body. */
export type DailyRefreshBody = z.infer<typeof dailyRefreshBodySchema>;

/** The response body (200 and 502). */
export interface DailyRefreshSummary {
  /** The run id (also `sync_state.last_run_id` and on the API log rows). */
  run_id: string;
  /** `cron` or `manual`. */
  trigger: "cron" | "manual";
  /** The cron job, when there is one. */
  job_name: string | null;
  /** The most rows this run could enqueue. */
  limit: number;
  /** How the change feed was read. */
  changes: {
    /** Where the feed was read from (the old watermark, or now − 24 h), ISO. */
    from: string;
    /** Up to when it was to be read (now), ISO. */
    to: string;
    /** Windows the range was split into. */
    windows: number;
    /** Windows fetched completely. */
    windows_complete: number;
    /** Pages fetched. */
    pages: number;
    /** Distinct changed ids seen. */
    ids: number;
    /** Whether every page of every window was fetched. */
    complete: boolean;
    /** The watermark after this run (ISO), or null when there is none yet. */
    watermark: string | null;
    /** Whether this run moved the watermark. */
    watermark_advanced: boolean;
    /** Why the feed was read only partly. */
    error?: string;
  };
  /** Changed works enqueued. */
  enqueued_changed: number;
  /** Overdue works enqueued to fill up to `limit`. */
  enqueued_stale: number;
  /** `enqueued_changed + enqueued_stale`. */
  enqueued: number;
  /** `refresh_queue_stats()` after enqueueing. */
  queue: QueueStats;
  /**
   * What the payload policy defaulted or dropped in the change feed's pages, by field path
   * under `changes:` (docs/schema.md). Also in `tmdb_payload_drift`.
   */
  drift: Drift;
  /** Wall time of the run. */
  duration_ms: number;
}

/** What the handler needs (the real ones come from `_shared/runtime.ts`). */
export interface HandlerDeps extends BaseHandlerDeps {
  /** A TMDB client for one run; its `flushLogs()` is awaited before answering. */
  tmdbFor(runId: string): Pick<TmdbClient, "movieChanges" | "flushLogs">;
  /** The refresh queue and the feed state. */
  queue: RefreshQueue;
  /** Where the feed's drift is recorded. */
  store: Pick<CatalogStore, "recordDrift">;
  /** Time budget, see {@link DEFAULT_BUDGET}. */
  budget?: { changesMs: number; hardMs: number };
}

/** The `daily-refresh` request handler, over its dependencies (see `defineHandler`). */
export const createHandler = defineHandler<HandlerDeps, DailyRefreshBody>({
  fn: FUNCTION_NAME,
  schema: dailyRefreshBodySchema,
  handle: refresh,
});

/** Reads the change feed, fills the queue and answers the {@link DailyRefreshSummary}. */
async function refresh(context: HandleContext<HandlerDeps, DailyRefreshBody>): Promise<Response> {
  const { body, deps, requestId, clock, secrets, startRun, cpu, cpuBudgetMs } = context;
  const budget = deps.budget ?? DEFAULT_BUDGET;
  const queue = deps.queue;
  const start = clock.now();
  const { runId, logger } = startRun(body.run_id);

  const state = await queue.readSyncState();
  const oldWatermark = state?.changes_watermark?.getTime() ?? null;
  const from = oldWatermark ?? start - INITIAL_LOOKBACK_MS;
  const windows = changeWindows(from, start);

  const tmdb = deps.tmdbFor(runId);
  let feed: FeedResult;
  try {
    feed = await readChangeFeed(windows, {
      tmdb,
      clock,
      pagesDeadline: start + budget.changesMs,
      cpuSpent: () => cpu.usedMs() >= cpuBudgetMs,
      callDeadline: start + budget.hardMs,
      logger,
    });
  } finally {
    await tmdb.flushLogs();
  }
  const error = feed.error === null ? null : redactString(feed.error, secrets);
  const drift = prefixDrift(feed.drift, "changes:");
  await deps.store.recordDrift({ runId, functionName: FUNCTION_NAME }, drift);

  let enqueuedChanged = 0;
  let enqueuedStale = 0;
  try {
    enqueuedChanged = await queue.enqueueChanged(feed.ids, body.limit);
    if (body.limit - enqueuedChanged > 0) {
      enqueuedStale = await queue.enqueueStale(body.limit - enqueuedChanged);
    }
  } catch (enqueueError) {
    // The ids read are not queued: keep the watermark so the next run reads them again.
    await queue.recordChangesSync({
      watermark: null,
      runId,
      error: `enqueueing failed after reading the change feed; see the function logs ` +
        `for request_id ${requestId}`,
    }).catch(() => {});
    throw enqueueError;
  }
  const advanced = feed.watermark !== null &&
    (oldWatermark === null || feed.watermark > oldWatermark);
  await queue.recordChangesSync({
    watermark: feed.watermark === null ? null : new Date(feed.watermark),
    runId,
    error,
  });
  const stats = await queue.stats();

  const newWatermark = advanced ? feed.watermark : oldWatermark;
  const summary: DailyRefreshSummary = {
    run_id: runId,
    trigger: body.trigger,
    job_name: body.job_name ?? null,
    limit: body.limit,
    changes: {
      from: new Date(from).toISOString(),
      to: new Date(start).toISOString(),
      windows: windows.length,
      windows_complete: feed.windowsComplete,
      pages: feed.pages,
      ids: feed.ids.length,
      complete: feed.windowsComplete === windows.length,
      watermark: newWatermark === null ? null : new Date(newWatermark).toISOString(),
      watermark_advanced: advanced,
      ...(error !== null ? { error } : {}),
    },
    enqueued_changed: enqueuedChanged,
    enqueued_stale: enqueuedStale,
    enqueued: enqueuedChanged + enqueuedStale,
    queue: stats,
    drift,
    duration_ms: Math.max(0, Math.round(clock.now() - start)),
  };
  if (feed.unauthorized !== null) {
    const message = tmdbUnauthorizedMessage(feed.unauthorized);
    logger.error("daily_refresh_run", {
      status: 502,
      error: "tmdb_unauthorized",
      message,
      ...summary,
    });
    throw new RunError(502, "tmdb_unauthorized", message, summary);
  }
  logger[error === null ? "info" : "warn"]("daily_refresh_run", { status: 200, ...summary });
  return jsonResponse(summary);
}
