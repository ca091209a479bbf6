/**
 * The ingest pipeline of `ingest-movie` and `scheduled-ingest`: one TMDB details request
 * per movie (its text is not parsed here), then the answers go to Postgres in batches of
 * {@link DEFAULT_STORE_BATCH} through {@link CatalogStore.storeAnswers}, one round trip each.
 *
 * - A failing movie never aborts the others: its error is captured in its result.
 * - Nothing is half-written: each movie is stored in its own subtransaction (SQL side).
 * - Duplicate ids are ingested once (first occurrence order is kept).
 * - `deadline` (epoch ms on `clock`) and `stopWhen` (e.g. a CPU budget) stop *starting*
 *   movies; the ones not started are reported as `skipped` so the caller can re-queue them. `hardDeadline` is passed to the
 *   TMDB client so retries of in-flight movies do not outlive the function's wall clock.
 *
 * @module
 */

import type { CatalogStore, StoredMovie, TmdbAnswer } from "../store/catalog.ts";
import { type Clock, systemClock } from "../platform/clock.ts";
import type { Logger } from "../platform/logger.ts";
import { redactString } from "../platform/redact.ts";
import { TmdbError, type TmdbErrorKind } from "../tmdb/client.ts";
import type { TmdbClient } from "../tmdb/client.ts";
import { type Drift, mergeDrift } from "../tmdb/policy.ts";

/** What happened to one movie. */
export type PerMovieOutcome =
  | "inserted"
  | "updated"
  | "unchanged"
  | "not_found"
  | "failed"
  | "skipped";

/**
 * Why a movie failed: a {@link TmdbErrorKind} (`invalid_response` also when the payload
 * policy refused the body), `database` (storing failed), `aborted` (the signal aborted it
 * mid-flight) or `internal` (anything else).
 */
export type FailureKind = TmdbErrorKind | "database" | "aborted" | "internal";

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
  /** What the payload policy defaulted in the stored movies, by field path. */
  drift: Drift;
  /** One result per distinct id, in request order. */
  results: PerMovieResult[];
  /** Wall time of the whole run on `clock`. */
  duration_ms: number;
}

/** What a run's answer says about the movies it ingested (ingest-movie, scheduled-ingest). */
export interface IngestCounts {
  /** `inserted + updated`. */
  ingested: number;
  /** Movies newly added. */
  inserted: number;
  /** Movies whose data changed. */
  updated: number;
  /** Movies fetched without changes. */
  unchanged: number;
  /** Ids TMDB does not know (marked not found). */
  not_found: number[];
  /** Movies that failed, with why (messages redacted). */
  failed: { tmdb_id: number; kind: string; message: string }[];
  /** Ids not started because a budget ran out or the run stopped. */
  skipped: number[];
}

/**
 * The {@link IngestCounts} of `summary` (all zero when nothing was ingested). Failure
 * messages should hold no secret; they are redacted anyway, since an answer leaves the
 * process without passing through the logger.
 */
export function ingestCounts(
  summary: IngestSummary | undefined,
  secrets: readonly string[],
): IngestCounts {
  const inserted = summary?.inserted ?? 0;
  const updated = summary?.updated ?? 0;
  return {
    ingested: inserted + updated,
    inserted,
    updated,
    unchanged: summary?.unchanged ?? 0,
    not_found: summary?.not_found ?? [],
    failed: (summary?.failed ?? []).map((f) => ({
      ...f,
      message: redactString(f.message, secrets),
    })),
    skipped: summary?.skipped ?? [],
  };
}

/** What the pipeline needs. */
export interface IngestDeps {
  /** The TMDB client (only `movieDetailsText` is used). */
  tmdb: Pick<TmdbClient, "movieDetailsText">;
  /** Where movies are written. */
  store: CatalogStore;
  /** Receives one `movie_failed` warning per failed movie. */
  logger: Logger;
  /** The run (drift is recorded under it) and the calling function. */
  run: { runId: string | null; functionName: string };
  /** Time source for the deadline, `refreshedAt` and `duration_ms`. Default system clock. */
  clock?: Clock;
  /** Movies fetched at once. Default {@link DEFAULT_INGEST_CONCURRENCY}. */
  concurrency?: number;
  /** Answers stored per round trip. Default {@link DEFAULT_STORE_BATCH}. */
  storeBatch?: number;
  /** Epoch ms: no movie is started at or after it (the rest are `skipped`). */
  deadline?: number;
  /** Epoch ms handed to the TMDB client: no TMDB attempt or retry runs past it. */
  hardDeadline?: number;
  /** Aborting stops starting movies (the rest are `skipped`) and cancels TMDB calls. */
  signal?: AbortSignal;
  /** Checked before each movie: `true` starts no more movies (e.g. a CPU budget is spent). */
  stopWhen?: () => boolean;
}

/** Default number of movies fetched at once. */
export const DEFAULT_INGEST_CONCURRENCY = 8;
/** Default number of answers stored per round trip. */
export const DEFAULT_STORE_BATCH = 10;

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The result of a TMDB call that did not give an answer to store. */
export function tmdbFailure(tmdbId: number, error: unknown, signal?: AbortSignal): PerMovieResult {
  if (!(error instanceof TmdbError)) {
    return {
      tmdb_id: tmdbId,
      outcome: "failed",
      error: {
        kind: signal?.aborted ? "aborted" : "internal",
        message: `fetching TMDB movie ${tmdbId} failed: ${errorMessage(error)}`,
      },
    };
  }
  const result: PerMovieError = { kind: error.kind, message: error.message };
  if (error.httpStatus !== null) result.http_status = error.httpStatus;
  if (error.statusCode !== null) result.tmdb_status_code = error.statusCode;
  return { tmdb_id: tmdbId, outcome: "failed", error: result };
}

/** The per-movie result of a stored answer. */
export function storedResult(stored: StoredMovie): PerMovieResult {
  if (stored.outcome === "failed") {
    return {
      tmdb_id: stored.tmdb_id,
      outcome: "failed",
      work_id: null,
      error: { kind: stored.kind ?? "database", message: stored.error ?? "not stored" },
    };
  }
  return { tmdb_id: stored.tmdb_id, outcome: stored.outcome, work_id: stored.work_id };
}

/**
 * Fetches one movie's details: an answer to store (200 text, or 404), or the failure.
 * Never rejects.
 */
export async function fetchAnswer(
  tmdbId: number,
  tmdb: Pick<TmdbClient, "movieDetailsText">,
  opts: { signal?: AbortSignal; deadline?: number } = {},
): Promise<{ answer: TmdbAnswer } | { failure: PerMovieResult }> {
  try {
    const body = await tmdb.movieDetailsText(tmdbId, opts);
    return { answer: { tmdb_id: tmdbId, status: 200, body } };
  } catch (error) {
    if (error instanceof TmdbError && error.kind === "not_found") {
      return { answer: { tmdb_id: tmdbId, status: 404 } };
    }
    return { failure: tmdbFailure(tmdbId, error, opts.signal) };
  }
}

/**
 * Ingests every distinct id in `tmdbIds`, fetching at most `concurrency` at a time and
 * storing the answers in batches, and summarises the run. Never rejects because of one
 * movie; see the module docs for deadlines.
 *
 * @example
 * const summary = await ingestMovies([550, 680], { tmdb, store, logger, run });
 * summary.inserted; // 2 on a fresh catalog
 */
export async function ingestMovies(
  tmdbIds: readonly number[],
  deps: IngestDeps,
): Promise<IngestSummary> {
  const {
    tmdb,
    store,
    logger,
    run,
    clock = systemClock,
    concurrency = DEFAULT_INGEST_CONCURRENCY,
    storeBatch = DEFAULT_STORE_BATCH,
    deadline,
    hardDeadline,
    signal,
    stopWhen,
  } = deps;
  for (const [name, value] of [["concurrency", concurrency], ["storeBatch", storeBatch]] as const) {
    if (!(Number.isInteger(value) && value >= 1)) {
      throw new RangeError(`\`${name}\` must be a positive integer: current value is ${value}`);
    }
  }
  const startedAt = clock.now();
  const ids = [...new Set(tmdbIds)];
  const index = new Map(ids.map((id, i) => [id, i]));
  const results: PerMovieResult[] = new Array(ids.length);
  const drift: Drift = {};

  // Answers wait here until a batch is full; batches are stored one after the other.
  let pending: TmdbAnswer[] = [];
  let storing: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    storing = storing.then(async () => {
      try {
        const stored = await store.storeAnswers(batch, {
          ...run,
          refreshedAt: new Date(clock.now()),
        });
        mergeDrift(drift, stored.drift);
        for (const item of stored.items) results[index.get(item.tmdb_id)!] = storedResult(item);
      } catch (error) {
        for (const a of batch) {
          results[index.get(a.tmdb_id)!] = {
            tmdb_id: a.tmdb_id,
            outcome: "failed",
            error: {
              kind: "database",
              message: `storing movie ${a.tmdb_id} failed: ${errorMessage(error)}`,
            },
          };
        }
      }
    });
  };

  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      const tmdbId = ids[i];
      if (
        signal?.aborted || (deadline !== undefined && clock.now() >= deadline) || stopWhen?.()
      ) {
        results[i] = { tmdb_id: tmdbId, outcome: "skipped" };
        continue;
      }
      const fetched = await fetchAnswer(tmdbId, tmdb, { signal, deadline: hardDeadline });
      if ("failure" in fetched) results[i] = fetched.failure;
      else {
        pending.push(fetched.answer);
        if (pending.length >= storeBatch) flush();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  flush();
  await storing;

  const summary: IngestSummary = {
    requested: ids.length,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    not_found: [],
    failed: [],
    skipped: [],
    drift,
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
        logger.warn("movie_failed", { tmdb_id: r.tmdb_id, ...r.error });
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
