/**
 * Walking a source's TMDB lists for ingest candidates: pages 1, 2, … of each list in turn
 * (round-robin), ids deduplicated across lists and pages, each page's new ids classified in
 * one SQL call; `new` and `due` ids are kept, `fresh` ones counted. The walk stops once it
 * has enough candidates, every list is exhausted (past `total_pages`, or page 500), a
 * budget runs out, or TMDB rejects the credentials; a list whose page fails stops there
 * while the others go on.
 *
 * @module
 */

import type { Clock } from "../_shared/platform/clock.ts";
import type { IngestionRunStore } from "../_shared/store/ingestion_runs.ts";
import { type TmdbClient, TmdbError, type TmdbMovieList } from "../_shared/tmdb/client.ts";
import { MAX_PAGE } from "../_shared/tmdb/limits.ts";
import { type Drift, mergeDrift } from "../_shared/tmdb/policy.ts";

/** A list page that could not be read (the walk of that list stopped there). */
export interface ListError {
  /** The list. */
  list: TmdbMovieList;
  /** The page. */
  page: number;
  /** The TMDB error kind. */
  kind: string;
  /** What went wrong. */
  message: string;
}

/** Why the walk over the lists stopped. */
export type StoppedBecause =
  | "limit"
  | "exhausted"
  | "budget"
  | "cpu_budget"
  | "tmdb_unauthorized";

/** What walking the lists produced. */
export interface Collected {
  candidates: number[];
  found: number;
  skippedFresh: number;
  pagesFetched: number;
  listErrors: ListError[];
  stoppedBecause: StoppedBecause;
  unauthorized: TmdbError | null;
  /** Drift of the list pages read (unprefixed). */
  drift: Drift;
}

/** Walks the source's lists round-robin until `limit` candidates, exhaustion or the budget. */
export async function collectCandidates(
  lists: readonly TmdbMovieList[],
  limit: number,
  deps: {
    tmdb: Pick<TmdbClient, "movieList">;
    runs: IngestionRunStore;
    clock: Clock;
    pagesDeadline: number;
    callDeadline: number;
    cpuSpent: () => boolean;
  },
): Promise<Collected> {
  const { tmdb, runs, clock, pagesDeadline, callDeadline, cpuSpent } = deps;
  const walks = lists.map((list) => ({ list, next: 1, done: false }));
  const seen = new Set<number>();
  const out: Collected = {
    candidates: [],
    found: 0,
    skippedFresh: 0,
    pagesFetched: 0,
    listErrors: [],
    stoppedBecause: "exhausted",
    unauthorized: null,
    drift: {},
  };
  for (;;) {
    const open = walks.filter((w) => !w.done);
    if (open.length === 0) return out; // every list exhausted (or failed)
    for (const walk of open) {
      if (out.candidates.length >= limit) {
        out.stoppedBecause = "limit";
        return out;
      }
      if (clock.now() >= pagesDeadline) {
        out.stoppedBecause = "budget";
        return out;
      }
      if (cpuSpent()) {
        out.stoppedBecause = "cpu_budget";
        return out;
      }
      const page = walk.next;
      let result;
      try {
        result = await tmdb.movieList(walk.list, page, { deadline: callDeadline });
      } catch (error) {
        if (!(error instanceof TmdbError)) throw error;
        if (error.kind === "unauthorized") {
          out.unauthorized = error;
          out.stoppedBecause = "tmdb_unauthorized";
          return out;
        }
        // This list stops here; the others go on.
        out.listErrors.push({ list: walk.list, page, kind: error.kind, message: error.message });
        walk.done = true;
        continue;
      }
      out.pagesFetched++;
      mergeDrift(out.drift, result.drift);
      walk.next = page + 1;
      if (walk.next > Math.min(result.total_pages, MAX_PAGE)) walk.done = true;

      const fresh: number[] = [];
      for (const id of result.ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        fresh.push(id);
      }
      out.found += fresh.length;
      if (fresh.length === 0) continue;
      const states = await runs.classify(fresh);
      for (const id of fresh) {
        const state = states.get(id) ?? "new";
        if (state === "fresh") out.skippedFresh++;
        else if (out.candidates.length < limit) out.candidates.push(id);
      }
    }
    if (out.candidates.length >= limit) {
      out.stoppedBecause = "limit";
      return out;
    }
  }
}
