/**
 * The ingest pipeline shared by `ingest-movie`, `scheduled-ingest` and `refresh-worker`:
 * for each TMDB id, one details request (with every appended part), then one atomic SQL call
 * (`public.ingest_movie`, or `public.mark_movie_not_found` when TMDB answers 404).
 *
 * - A failing movie never aborts the others: its error is captured in its result.
 * - Nothing is half-written: the only write per movie is one SQL function call.
 * - Duplicate ids are ingested once (first occurrence order is kept).
 * - `deadline` (epoch ms on `clock`) stops *starting* movies; the ones not started are
 *   reported as `skipped` so the caller can re-queue them. `hardDeadline` is passed to the
 *   TMDB client so retries of in-flight movies do not outlive the function's wall clock.
 *
 * @module
 */

import type { CatalogStore } from "./catalog_store.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { TmdbError, type TmdbErrorKind } from "./tmdb_client.ts";
import type { TmdbClient } from "./tmdb_client.ts";

/** What happened to one movie. */
export type PerMovieOutcome =
  | "inserted"
  | "updated"
  | "unchanged"
  | "not_found"
  | "failed"
  | "skipped";

/**
 * Why a movie failed: a {@link TmdbErrorKind}, `database` (the SQL call failed),
 * `invalid_id` (not a positive integer), `aborted` (the signal aborted it mid-flight) or
 * `internal` (anything else).
 */
export type FailureKind = TmdbErrorKind | "database" | "invalid_id" | "aborted" | "internal";

/** The error of a failed movie. */
export interface PerMovieError {
  /** What kind of failure. */
  kind: FailureKind;
  /** What went wrong (never holds a secret). */
  message: string;
  /** TMDB's HTTP status, when a response arrived. */
  http_status?: number;
  /** TMDB's `status_code`, when its error body had one. */
  tmdb_status_code?: number;
}

/** The result for one movie. */
export interface PerMovieResult {
  /** The TMDB id. */
  tmdb_id: number;
  /** What happened. */
  outcome: PerMovieOutcome;
  /** The catalog work id, when the catalog reported one. */
  work_id?: number | null;
  /** Set when `outcome` is `failed`. */
  error?: PerMovieError;
}

/** A failed movie in an {@link IngestSummary}. */
export interface FailedMovie {
  /** The TMDB id. */
  tmdb_id: number;
  /** What kind of failure. */
  kind: FailureKind;
  /** What went wrong. */
  message: string;
}

/** The result of {@link ingestMovies}. */
export interface IngestSummary {
  /** Distinct ids requested (duplicates counted once). */
  requested: number;
  /** Movies newly added to the catalog. */
  inserted: number;
  /** Movies whose stored data changed. */
  updated: number;
  /** Movies fetched whose data had not changed. */
  unchanged: number;
  /** Ids TMDB answered 404 for (marked not found in the catalog). */
  not_found: number[];
  /** Movies that failed, with why. */
  failed: FailedMovie[];
  /** Ids not started because the deadline passed or the signal aborted. */
  skipped: number[];
  /** One result per distinct id, in request order. */
  results: PerMovieResult[];
  /** Wall time of the whole run on `clock`. */
  duration_ms: number;
}

/** What the pipeline needs. */
export interface IngestDeps {
  /** The TMDB client (only `movieDetails` is used). */
  tmdb: Pick<TmdbClient, "movieDetails">;
  /** Where movies are written. */
  store: CatalogStore;
  /** Receives one `movie_failed` warning per failed movie. */
  logger: Logger;
  /** Time source for the deadline, `refreshedAt` and `duration_ms`. Default system clock. */
  clock?: Clock;
  /** Movies processed at once. Default 8. */
  concurrency?: number;
  /** Epoch ms: no movie is started at or after it (the rest are `skipped`). */
  deadline?: number;
  /** Epoch ms handed to the TMDB client: no TMDB attempt or retry runs past it. */
  hardDeadline?: number;
  /** Aborting stops starting movies (the rest are `skipped`) and cancels TMDB calls. */
  signal?: AbortSignal;
}

/** Default number of movies processed at once. */
export const DEFAULT_INGEST_CONCURRENCY = 8;

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function failed(tmdbId: number, error: PerMovieError): PerMovieResult {
  return { tmdb_id: tmdbId, outcome: "failed", error };
}

function tmdbFailure(tmdbId: number, error: TmdbError): PerMovieResult {
  const result: PerMovieError = { kind: error.kind, message: error.message };
  if (error.httpStatus !== null) result.http_status = error.httpStatus;
  if (error.statusCode !== null) result.tmdb_status_code = error.statusCode;
  return failed(tmdbId, result);
}

/**
 * Fetches and stores one movie. Never rejects: every failure becomes an `outcome: "failed"`
 * result (a TMDB 404 becomes `not_found` after `store.markNotFound`).
 */
export async function ingestOne(tmdbId: number, deps: IngestDeps): Promise<PerMovieResult> {
  const { tmdb, store, logger, clock = systemClock, signal, hardDeadline } = deps;
  const result = await (async (): Promise<PerMovieResult> => {
    if (!(Number.isSafeInteger(tmdbId) && tmdbId > 0)) {
      return failed(tmdbId, {
        kind: "invalid_id",
        message: `TMDB ids must be positive integers: current value is ${tmdbId}`,
      });
    }
    let payload;
    try {
      payload = await tmdb.movieDetails(tmdbId, { signal, deadline: hardDeadline });
    } catch (error) {
      if (!(error instanceof TmdbError)) {
        return failed(tmdbId, {
          kind: signal?.aborted ? "aborted" : "internal",
          message: `fetching TMDB movie ${tmdbId} failed: ${errorMessage(error)}`,
        });
      }
      if (error.kind !== "not_found") return tmdbFailure(tmdbId, error);
      try {
        const outcome = await store.markNotFound(tmdbId, new Date(clock.now()));
        return { tmdb_id: tmdbId, outcome: "not_found", work_id: outcome.work_id };
      } catch (dbError) {
        return failed(tmdbId, {
          kind: "database",
          message: `marking movie ${tmdbId} not found failed: ${errorMessage(dbError)}`,
          http_status: 404,
          ...(error.statusCode !== null ? { tmdb_status_code: error.statusCode } : {}),
        });
      }
    }
    if (payload.id !== tmdbId) {
      return failed(tmdbId, {
        kind: "invalid_response",
        message: `TMDB answered movie ${payload.id} when asked for ${tmdbId}; not stored`,
      });
    }
    try {
      const outcome = await store.ingestMovie(payload, new Date(clock.now()));
      if (outcome.action === "not_found") {
        return failed(tmdbId, {
          kind: "database",
          message: `public.ingest_movie reported not_found for movie ${tmdbId}`,
        });
      }
      return { tmdb_id: tmdbId, outcome: outcome.action, work_id: outcome.work_id };
    } catch (dbError) {
      return failed(tmdbId, {
        kind: "database",
        message: `storing movie ${tmdbId} failed: ${errorMessage(dbError)}`,
      });
    }
  })();
  if (result.outcome === "failed" && result.error) {
    logger.warn("movie_failed", { tmdb_id: tmdbId, ...result.error });
  }
  return result;
}

/**
 * Ingests every distinct id in `tmdbIds`, at most `concurrency` at a time, and summarises
 * the run. Never rejects because of one movie; see the module docs for deadlines.
 *
 * @example
 * const summary = await ingestMovies([550, 680], { tmdb, store, logger });
 * summary.inserted; // 2 on a fresh catalog
 */
export async function ingestMovies(
  tmdbIds: readonly number[],
  deps: IngestDeps,
): Promise<IngestSummary> {
  const { clock = systemClock, concurrency = DEFAULT_INGEST_CONCURRENCY, deadline, signal } = deps;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(
      `\`concurrency\` must be a positive integer: current value is ${concurrency}`,
    );
  }
  const startedAt = clock.now();
  const ids = [...new Set(tmdbIds)];
  const results: PerMovieResult[] = new Array(ids.length);
  let next = 0;

  const worker = async () => {
    while (next < ids.length) {
      const index = next++;
      const tmdbId = ids[index];
      if (signal?.aborted || (deadline !== undefined && clock.now() >= deadline)) {
        results[index] = { tmdb_id: tmdbId, outcome: "skipped" };
        continue;
      }
      results[index] = await ingestOne(tmdbId, deps);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));

  const summary: IngestSummary = {
    requested: ids.length,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    not_found: [],
    failed: [],
    skipped: [],
    results,
    duration_ms: 0,
  };
  for (const r of results) {
    switch (r.outcome) {
      case "inserted":
      case "updated":
      case "unchanged":
        summary[r.outcome]++;
        break;
      case "not_found":
        summary.not_found.push(r.tmdb_id);
        break;
      case "skipped":
        summary.skipped.push(r.tmdb_id);
        break;
      case "failed":
        summary.failed.push({
          tmdb_id: r.tmdb_id,
          kind: r.error?.kind ?? "internal",
          message: r.error?.message ?? "unknown failure",
        });
        break;
    }
  }
  summary.duration_ms = Math.max(0, Math.round(clock.now() - startedAt));
  return summary;
}
