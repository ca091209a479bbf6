/**
 * A scripted {@link CatalogStore} for handler tests: it records every call and answers what
 * the test scripted. It keeps no catalog rule of its own (the real rules are tested against
 * `public.ingest_tmdb_responses` in pgTAP and the integration tests): by default a 200 answer
 * is `inserted` (work id = TMDB id) and a 404 is `not_found`.
 *
 * @module
 */

import type { CatalogStore, StoreContext, StoredMovie, TmdbAnswer } from "../store/catalog.ts";
import type { Drift } from "../tmdb/policy.ts";

/** Options for {@link createRecordingCatalogStore}. */
export interface RecordingCatalogOptions {
  /** The result of one answer (fields not returned take the defaults above). */
  outcome?: (answer: TmdbAnswer) => Partial<StoredMovie> | undefined;
  /** The drift each call reports. Default `{}`. */
  drift?: (answers: readonly TmdbAnswer[]) => Drift;
  /** Make the whole call reject (the database is unreachable) when this returns an error. */
  failCall?: (answers: readonly TmdbAnswer[]) => Error | undefined;
}

/** A {@link CatalogStore} that records its calls. */
export interface RecordingCatalogStore extends CatalogStore {
  /** Every call: the answers and the context, in order. */
  readonly calls: { answers: TmdbAnswer[]; context: StoreContext }[];
  /** Every answer passed, in order. */
  readonly answers: TmdbAnswer[];
  /** Every `recordDrift` call, in order. */
  readonly recordedDrift: { runId: string; functionName: string; drift: Drift }[];
}

/** Creates a {@link RecordingCatalogStore}. */
export function createRecordingCatalogStore(
  options: RecordingCatalogOptions = {},
): RecordingCatalogStore {
  const calls: RecordingCatalogStore["calls"] = [];
  const answers: TmdbAnswer[] = [];
  const recordedDrift: RecordingCatalogStore["recordedDrift"] = [];
  return {
    calls,
    answers,
    recordedDrift,
    recordDrift(context, drift) {
      recordedDrift.push({ ...context, drift });
      return Promise.resolve();
    },
    storeAnswers(batch, context) {
      calls.push({ answers: [...batch], context });
      answers.push(...batch);
      const failure = options.failCall?.(batch);
      if (failure) return Promise.reject(failure);
      const items = batch.map((a): StoredMovie => ({
        tmdb_id: a.tmdb_id,
        outcome: a.status === 404 ? "not_found" : "inserted",
        work_id: a.tmdb_id,
        ...options.outcome?.(a),
      }));
      return Promise.resolve({ items, drift: options.drift?.(batch) ?? {} });
    },
  };
}
