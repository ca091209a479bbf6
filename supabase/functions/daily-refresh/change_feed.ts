/**
 * Reading TMDB's change feed from a watermark: the range is split into windows TMDB accepts
 * (at most 14 days each, UTC days), every page of each window is read in order, and the
 * feed counts as read up to the end of the last window whose pages were all read.
 *
 * @module
 */

import type { Clock } from "../_shared/platform/clock.ts";
import type { Logger } from "../_shared/platform/logger.ts";
import { type TmdbClient, TmdbError } from "../_shared/tmdb/client.ts";
import { MAX_CHANGES_DAYS, MAX_PAGE } from "../_shared/tmdb/limits.ts";
import { type Drift, mergeDrift } from "../_shared/tmdb/policy.ts";
import { tmdbUnauthorizedMessage } from "../_shared/tmdb/outage.ts";

const DAY_MS = 86_400_000;

/** One `/movie/changes` window. */
export interface ChangesWindow {
  /** `start_date`, `YYYY-MM-DD` (UTC). */
  startDate: string;
  /** `end_date`, `YYYY-MM-DD` (UTC), inclusive. */
  endDate: string;
  /** Epoch ms the feed is complete up to once this window is fetched. */
  endsAt: number;
}

function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Splits `[fromMs, toMs]` into windows whose `end_date − start_date` is at most `maxDays`
 * days. Days are UTC and `end_date` is inclusive, so a window that stops before `toMs`'s day
 * is complete up to the next midnight, and the last one up to `toMs`. The first window
 * starts at the start of `fromMs`'s day (re-reading a few hours is harmless: enqueueing is
 * idempotent), so consecutive runs leave no gap. A `fromMs` after `toMs` gives one window
 * on `toMs`'s day.
 *
 * @example
 * changeWindows(Date.parse("2026-11-01T10:00Z"), Date.parse("2026-11-02T10:00Z"));
 * // [{ startDate: "2026-11-01", endDate: "2026-11-02", endsAt: <2026-11-02T10:00Z> }]
 */
export function changeWindows(
  fromMs: number,
  toMs: number,
  maxDays: number = MAX_CHANGES_DAYS,
): ChangesWindow[] {
  if (!(Number.isInteger(maxDays) && maxDays >= 0)) {
    throw new RangeError(`\`maxDays\` must be an integer >= 0: current value is ${maxDays}`);
  }
  const endDay = Math.floor(toMs / DAY_MS);
  let day = Math.min(Math.floor(fromMs / DAY_MS), endDay);
  const out: ChangesWindow[] = [];
  for (;;) {
    const last = Math.min(day + maxDays, endDay);
    out.push({
      startDate: isoDay(day),
      endDate: isoDay(last),
      endsAt: last === endDay ? toMs : (last + 1) * DAY_MS,
    });
    if (last === endDay) return out;
    day = last + 1;
  }
}

/** What reading the feed produced. */
export interface FeedResult {
  ids: number[];
  pages: number;
  windowsComplete: number;
  watermark: number | null;
  error: string | null;
  unauthorized: TmdbError | null;
  drift: Drift;
}

export async function readChangeFeed(
  windows: readonly ChangesWindow[],
  deps: {
    tmdb: Pick<TmdbClient, "movieChanges">;
    clock: Clock;
    pagesDeadline: number;
    callDeadline: number;
    logger: Logger;
    cpuSpent: () => boolean;
  },
): Promise<FeedResult> {
  const { tmdb, clock, pagesDeadline, callDeadline, logger, cpuSpent } = deps;
  const ids = new Set<number>();
  const out: FeedResult = {
    ids: [],
    pages: 0,
    windowsComplete: 0,
    watermark: null,
    error: null,
    unauthorized: null,
    drift: {},
  };
  walk: for (const window of windows) {
    let lastPage = 1;
    for (let page = 1; page <= lastPage; page++) {
      const spent = clock.now() >= pagesDeadline ? "time" : cpuSpent() ? "CPU" : null;
      if (spent !== null) {
        out.error = `the ${spent} budget for reading the change feed ran out at ` +
          `${window.startDate}..${window.endDate} page ${page}; the next run continues from ` +
          `the watermark`;
        break walk;
      }
      let result;
      try {
        result = await tmdb.movieChanges(
          { startDate: window.startDate, endDate: window.endDate, page },
          { deadline: callDeadline },
        );
      } catch (error) {
        if (!(error instanceof TmdbError)) throw error;
        if (error.kind === "unauthorized") {
          out.unauthorized = error;
          out.error = tmdbUnauthorizedMessage(error);
        } else {
          out.error = error.message;
        }
        break walk;
      }
      out.pages++;
      mergeDrift(out.drift, result.drift);
      for (const id of result.ids) ids.add(id);
      if (page === 1) {
        lastPage = Math.min(result.total_pages, MAX_PAGE);
        if (result.total_pages > MAX_PAGE) {
          logger.warn("changes_window_truncated", {
            start_date: window.startDate,
            end_date: window.endDate,
            total_pages: result.total_pages,
          });
        }
      }
    }
    out.windowsComplete++;
    out.watermark = window.endsAt;
  }
  out.ids = [...ids];
  return out;
}
