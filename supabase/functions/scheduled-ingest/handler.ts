/**
 * `POST /functions/v1/scheduled-ingest`: find movies on TMDB's lists that the catalog lacks
 * or holds a stale copy of (`list_walk.ts`) and ingest them, at most `limit` (1..200,
 * default 30), from a `source` (a list, or `mixed_daily` / `mixed_weekly`). Called by
 * `public.call_scheduled_ingest()` through pg_net, or by an operator; each run is a row of
 * `scheduled_ingestion_log`. docs/functions.md#scheduled-ingest has the request, the run,
 * the budgets and the answers.
 *
 * @module
 */

import { z } from "zod";
import { bodyObject, intInRange, runFields } from "../_shared/http/body_fields.ts";
import type { CatalogStore } from "../_shared/store/catalog.ts";
import {
  type BaseHandlerDeps,
  defineHandler,
  type HandleContext,
} from "../_shared/http/handler.ts";
import { HttpError, jsonResponse, RunError } from "../_shared/http/response.ts";
import {
  DEFAULT_INGEST_CONCURRENCY,
  type IngestCounts,
  ingestCounts,
  ingestMovies,
  type IngestSummary,
} from "../_shared/sync/ingest.ts";
import type { IngestionRunStatus, IngestionRunStore } from "../_shared/store/ingestion_runs.ts";
import { type Drift, mergeDrift, prefixDrift } from "../_shared/tmdb/policy.ts";
import { type TmdbClient, TmdbError, type TmdbMovieList } from "../_shared/tmdb/client.ts";
import { TmdbRunGuard, tmdbUnauthorizedMessage } from "../_shared/tmdb/outage.ts";
import {
  collectCandidates,
  type Collected,
  type ListError,
  type StoppedBecause,
} from "./list_walk.ts";
import { redactString } from "../_shared/platform/redact.ts";

/** The function's name (folder), used in logs and API log rows. */
export const FUNCTION_NAME = "scheduled-ingest";

/** The TMDB lists each source walks, in round-robin order. */
export const SOURCES = {
  now_playing: ["now_playing"],
  popular: ["popular"],
  trending_day: ["trending_day"],
  trending_week: ["trending_week"],
  mixed_daily: ["now_playing", "trending_week"],
  mixed_weekly: ["popular", "trending_week"],
} as const satisfies Record<string, readonly TmdbMovieList[]>;

/** A source name. */
export type Source = keyof typeof SOURCES;

/** Names of the valid sources, in documentation order. */
export const SOURCE_NAMES = Object.keys(SOURCES) as [Source, ...Source[]];

/** Bounds and default of `limit`. */
export const LIMIT = { min: 1, max: 200, default: 30 } as const;

/**
 * Time budget, from the start of the request (pg_net waits 150 s; hosted functions get
 * 150 s of wall clock): no list page is requested after `pagesMs`, no movie is started after
 * `startMs`, and no TMDB attempt or retry runs past `hardMs`.
 */
export const DEFAULT_BUDGET = { pagesMs: 60_000, startMs: 105_000, hardMs: 120_000 } as const;

/** The request body. */
export const scheduledIngestBodySchema = bodyObject({
  source: z.enum(SOURCE_NAMES, {
    errorMap: (_issue, ctx) => ({
      message: ctx.data === undefined
        ? `source is required: one of ${SOURCE_NAMES.join(", ")}`
        : `Unknown source ${JSON.stringify(ctx.data)}: valid sources are ${
          SOURCE_NAMES.join(", ")
        }`,
    }),
  }),
  limit: intInRange("limit", LIMIT.min, LIMIT.max).default(LIMIT.default),
  ...runFields,
});

/** A parsed request body. */
export type ScheduledIngestBody = z.infer<typeof scheduledIngestBodySchema>;

/** The response body (200 and 502). */
export interface ScheduledIngestSummary extends IngestCounts {
  /** The run id (also on the run row and the API log rows). */
  run_id: string;
  /** The source. */
  source: Source;
  /** The most movies the run could ingest. */
  limit: number;
  /** `cron` or `manual`. */
  trigger: "cron" | "manual";
  /** The cron job, when there is one. */
  job_name: string | null;
  /** List pages fetched. */
  pages_fetched: number;
  /** Unique ids seen on those pages. */
  found: number;
  /** Ids kept for ingest (`new` or `due`, at most `limit`). */
  candidates: number;
  /** Ids seen whose catalog copy is fresh (not ingested). */
  skipped_fresh: number;
  /** List pages that failed. */
  list_errors: ListError[];
  /** Why walking the lists stopped. */
  stopped_because: StoppedBecause;
  /**
   * What the payload policy defaulted, by field path and kind: list pages under `list:`,
   * movie payloads unprefixed (docs/schema.md). Also in `tmdb_payload_drift`.
   */
  drift: Drift;
  /** How the run ended (as on the run row). */
  status: IngestionRunStatus;
  /** Wall time of the run. */
  duration_ms: number;
}

/** What the handler needs (the real ones come from `_shared/runtime.ts`). */
export interface HandlerDeps extends BaseHandlerDeps {
  /** A TMDB client for one run; its `flushLogs()` is awaited before answering. */
  tmdbFor(runId: string): Pick<TmdbClient, "movieList" | "movieDetailsText" | "flushLogs">;
  /** Where movies are written. */
  store: CatalogStore;
  /** The run log and freshness check. */
  runs: IngestionRunStore;
  /** Movies fetched at once; keep it ≤ the TMDB limiter's connections. Default 8. */
  concurrency?: number;
  /** Time budget, see {@link DEFAULT_BUDGET}. */
  budget?: { pagesMs: number; startMs: number; hardMs: number };
}

/**
 * The handler's dependencies from the process runtime (`_shared/runtime.ts`): everything as
 * is, with the ingest concurrency capped by the TMDB limiter's connections.
 */
export function fromRuntime(
  runtime: HandlerDeps & { config: { tmdb: { maxConcurrent: number } } },
): HandlerDeps {
  return {
    ...runtime,
    concurrency: Math.min(DEFAULT_INGEST_CONCURRENCY, runtime.config.tmdb.maxConcurrent),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function runError(summary: ScheduledIngestSummary): string | null {
  const parts: string[] = [];
  if (summary.failed.length > 0) {
    parts.push(`${summary.failed.length} of ${summary.candidates} movies failed`);
  }
  if (summary.skipped.length > 0) {
    parts.push(
      `${summary.skipped.length} movies not started: the ${
        summary.stopped_because === "cpu_budget" ? "CPU" : "time"
      } budget ran out`,
    );
  }
  for (const e of summary.list_errors.slice(0, 3)) {
    parts.push(`${e.list} page ${e.page}: ${e.message}`);
  }
  return parts.length === 0 ? null : parts.join("; ");
}

/** The `scheduled-ingest` request handler, over its dependencies (see `defineHandler`). */
export const createHandler = defineHandler<HandlerDeps, ScheduledIngestBody>({
  fn: FUNCTION_NAME,
  schema: scheduledIngestBodySchema,
  handle: scheduledIngest,
});

/** Runs one scheduled ingest and answers the {@link ScheduledIngestSummary}. */
async function scheduledIngest(
  context: HandleContext<HandlerDeps, ScheduledIngestBody>,
): Promise<Response> {
  const { body, deps, requestId, clock, secrets, startRun, cpu, cpuBudgetMs } = context;
  // Walking pages and starting movies both stop once the process has used its CPU budget.
  let cpuSpent = false;
  const cpuSpentNow = () => (cpuSpent ||= cpu.usedMs() >= cpuBudgetMs);
  const budget = deps.budget ?? DEFAULT_BUDGET;
  const start = clock.now();
  const { runId, logger } = startRun(body.run_id);

  try {
    await deps.runs.start({
      runId,
      source: body.source,
      trigger: body.trigger,
      requested: body.limit,
    });
  } catch (error) {
    if ((error as { code?: unknown })?.code === "23505") {
      throw new HttpError(
        409,
        "duplicate_run",
        `A run with run_id ${runId} already exists; omit run_id to get a new one`,
      );
    }
    throw error;
  }

  const tmdb = deps.tmdbFor(runId);
  let collected: Collected | undefined;
  let ingest: IngestSummary | undefined;
  let unauthorized: TmdbError | null = null;
  let unexpected: unknown;
  try {
    collected = await collectCandidates(SOURCES[body.source], body.limit, {
      tmdb,
      runs: deps.runs,
      clock,
      pagesDeadline: start + budget.pagesMs,
      callDeadline: start + budget.startMs,
      cpuSpent: cpuSpentNow,
    });
    unauthorized = collected.unauthorized;
    if (unauthorized === null && collected.candidates.length > 0) {
      // Stop the whole ingest at the first 401: every other call would fail the same way.
      const guard = new TmdbRunGuard();
      const guarded: Pick<TmdbClient, "movieDetailsText"> = {
        movieDetailsText: (id, opts) => guard.call(() => tmdb.movieDetailsText(id, opts)),
      };
      try {
        ingest = await ingestMovies(collected.candidates, {
          tmdb: guarded,
          store: deps.store,
          logger,
          run: { runId, functionName: FUNCTION_NAME },
          clock,
          concurrency: deps.concurrency,
          deadline: start + budget.startMs,
          hardDeadline: start + budget.hardMs,
          signal: guard.signal,
          stopWhen: cpuSpentNow,
        });
      } finally {
        unauthorized = guard.unauthorized;
      }
    }
  } catch (error) {
    unexpected = error;
  } finally {
    await tmdb.flushLogs();
  }
  const listDrift = prefixDrift(collected?.drift ?? {}, "list:");
  if (unexpected === undefined) {
    try {
      await deps.store.recordDrift({ runId, functionName: FUNCTION_NAME }, listDrift);
    } catch (error) {
      unexpected = error;
    }
  }

  const noPages = collected !== undefined && collected.pagesFetched === 0 &&
    collected.listErrors.length > 0;
  const fatal = unexpected !== undefined || unauthorized !== null || noPages;
  const summary: ScheduledIngestSummary = {
    run_id: runId,
    source: body.source,
    limit: body.limit,
    trigger: body.trigger,
    job_name: body.job_name ?? null,
    pages_fetched: collected?.pagesFetched ?? 0,
    found: collected?.found ?? 0,
    candidates: collected?.candidates.length ?? 0,
    ...ingestCounts(ingest, secrets),
    skipped_fresh: collected?.skippedFresh ?? 0,
    list_errors: (collected?.listErrors ?? []).map((e) => ({
      ...e,
      message: redactString(e.message, secrets),
    })),
    stopped_because: unauthorized !== null
      ? "tmdb_unauthorized"
      : cpuSpent
      ? "cpu_budget"
      : collected?.stoppedBecause ?? "exhausted",
    drift: mergeDrift(listDrift, ingest?.drift ?? {}),
    status: "succeeded",
    duration_ms: 0,
  };
  let error: { code: string; message: string; status: number } | null = null;
  if (unauthorized !== null) {
    error = {
      code: "tmdb_unauthorized",
      message: tmdbUnauthorizedMessage(unauthorized),
      status: 502,
    };
  } else if (unexpected !== undefined) {
    logger.error("scheduled_ingest_error", { error: unexpected });
    error = {
      code: "internal_error",
      message: `The run failed unexpectedly; see the function logs for request_id ${requestId}`,
      status: 500,
    };
  } else if (noPages) {
    error = {
      code: "tmdb_unavailable",
      message: `No TMDB list page could be read: ${summary.list_errors[0].message}`,
      status: 502,
    };
  }
  summary.status = fatal ? "failed" : runError(summary) === null ? "succeeded" : "partial";
  summary.duration_ms = Math.max(0, Math.round(clock.now() - start));

  let finishError: unknown;
  try {
    await deps.runs.finish({
      runId,
      found: summary.found,
      ingested: summary.ingested,
      unchanged: summary.unchanged,
      failed: summary.failed.length,
      skippedFresh: summary.skipped_fresh,
      status: summary.status,
      error: unexpected !== undefined
        ? redactString(`the run failed: ${errorText(unexpected)}`, secrets)
        : error?.message ?? runError(summary),
      details: {
        job_name: summary.job_name,
        limit: summary.limit,
        pages_fetched: summary.pages_fetched,
        candidates: summary.candidates,
        inserted: summary.inserted,
        updated: summary.updated,
        not_found: summary.not_found,
        failed: summary.failed.slice(0, 50),
        skipped: summary.skipped,
        list_errors: summary.list_errors,
        stopped_because: summary.stopped_because,
        drift: summary.drift,
        duration_ms: summary.duration_ms,
      },
    });
  } catch (e) {
    finishError = e;
  }

  const level = summary.status === "failed" || finishError !== undefined ? "error" : "info";
  logger[level]("scheduled_ingest_run", {
    ...summary,
    ...(error ? { error: error.code, message: error.message } : {}),
    ...(finishError !== undefined ? { run_row_error: finishError } : {}),
  });
  if (error === null && finishError !== undefined) {
    error = {
      code: "run_log_failed",
      message: `The run finished but its row in scheduled_ingestion_log could not be ` +
        `updated; see the function logs for request_id ${requestId}`,
      status: 500,
    };
  }
  if (error !== null) throw new RunError(error.status, error.code, error.message, summary);
  return jsonResponse(summary);
}
