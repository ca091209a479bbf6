/**
 * `POST /functions/v1/ingest-movie`: fetch one or more movies from TMDB now and store them,
 * `{"tmdb_id": 550}` or `{"tmdb_ids": [550, 680]}` (1–50). Answers 200 with what each movie
 * became, also when some failed. docs/functions.md#ingest-movie has the details.
 *
 * @module
 */

import { z } from "zod";
import { bodyObject } from "../_shared/http/body_fields.ts";
import type { CatalogStore } from "../_shared/store/catalog.ts";
import {
  type BaseHandlerDeps,
  defineHandler,
  type HandleContext,
} from "../_shared/http/handler.ts";
import { jsonResponse } from "../_shared/http/response.ts";
import { type IngestCounts, ingestCounts, ingestMovies } from "../_shared/sync/ingest.ts";
import type { TmdbClient } from "../_shared/tmdb/client.ts";
import type { Drift } from "../_shared/tmdb/policy.ts";

/** The function's name (folder), used in logs and API log rows. */
export const FUNCTION_NAME = "ingest-movie";

/** Most ids accepted in one request. */
export const MAX_IDS_PER_REQUEST = 50;

/**
 * Time after the request starts when no new movie is started (the rest are `skipped`),
 * and when TMDB retries stop. Hosted functions get 150 s of wall clock (free plan).
 */
export const DEFAULT_BUDGET = { startMs: 90_000, hardMs: 130_000 } as const;

/** Largest TMDB id the catalog can hold (`works.tmdb_id` is a PostgreSQL `integer`). */
export const MAX_TMDB_ID = 2_147_483_647;

const tmdbId = z.number().int("Expected an integer TMDB id").positive(
  "Expected a positive TMDB id",
).max(MAX_TMDB_ID, `Expected a TMDB id of at most ${MAX_TMDB_ID}`);

/** The request body: exactly one of `tmdb_id` / `tmdb_ids`; unknown keys are rejected. */
export const ingestMovieBodySchema = bodyObject({
  tmdb_id: tmdbId.optional(),
  tmdb_ids: z.array(tmdbId, { invalid_type_error: "Expected an array of TMDB ids" })
    .min(1, "Expected at least 1 TMDB id")
    .max(
      MAX_IDS_PER_REQUEST,
      `At most ${MAX_IDS_PER_REQUEST} TMDB ids per request; split larger batches`,
    )
    .optional(),
}).superRefine((body, ctx) => {
  if ((body.tmdb_id === undefined) === (body.tmdb_ids === undefined)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'Exactly one of tmdb_id / tmdb_ids is required, e.g. {"tmdb_id": 550} or ' +
        '{"tmdb_ids": [550, 680]}',
    });
  }
});

/** A parsed request body. */
export type IngestMovieBody = z.infer<typeof ingestMovieBodySchema>;

/** The 200 response body. */
export interface IngestMovieResponse extends IngestCounts {
  /** Id of this run (also on every API log row of the run). */
  run_id: string;
  /** Distinct ids requested. */
  requested: number;
  /** What the payload policy defaulted, by field path and kind (docs/schema.md). */
  drift: Drift;
  /** Wall time of the ingest. */
  duration_ms: number;
}

/** What the handler needs (the real ones come from `_shared/runtime.ts`). */
export interface HandlerDeps extends BaseHandlerDeps {
  /** A TMDB client for one run; its `flushLogs()` is awaited before answering. */
  tmdbFor(runId: string): Pick<TmdbClient, "movieDetailsText" | "flushLogs">;
  /** Where movies are written. */
  store: CatalogStore;
  /** Movies fetched at once. Default 8. */
  concurrency?: number;
  /** Time budget, see {@link DEFAULT_BUDGET}. */
  budget?: { startMs: number; hardMs: number };
}

/** The `ingest-movie` request handler, over its dependencies (see `defineHandler`). */
export const createHandler = defineHandler<HandlerDeps, IngestMovieBody>({
  fn: FUNCTION_NAME,
  schema: ingestMovieBodySchema,
  handle: ingest,
});

/** Ingests the requested movies and answers the {@link IngestMovieResponse}. */
async function ingest(context: HandleContext<HandlerDeps, IngestMovieBody>): Promise<Response> {
  const { body, deps, clock, secrets, startRun } = context;
  const ids = body.tmdb_ids ?? [body.tmdb_id!];
  const budget = deps.budget ?? DEFAULT_BUDGET;
  const start = clock.now();
  const { runId, logger } = startRun();
  const tmdb = deps.tmdbFor(runId);
  let summary;
  try {
    summary = await ingestMovies(ids, {
      tmdb,
      store: deps.store,
      logger,
      run: { runId, functionName: FUNCTION_NAME },
      clock,
      concurrency: deps.concurrency,
      deadline: start + budget.startMs,
      hardDeadline: start + budget.hardMs,
    });
  } finally {
    await tmdb.flushLogs();
  }

  const response: IngestMovieResponse = {
    run_id: runId,
    requested: summary.requested,
    ...ingestCounts(summary, secrets),
    drift: summary.drift,
    duration_ms: summary.duration_ms,
  };
  logger.info("ingest_movie_request", { status: 200, ...response });
  return jsonResponse(response);
}
