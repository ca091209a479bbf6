/**
 * Request statistics of the stand-in (`GET /__control/stats`): API requests per endpoint
 * template, per movie id and per answered status, the real bucket's 429s, the busiest second
 * and the injected faults; and the shape of the one-line request log.
 *
 * @module
 */

import { BusiestSecond } from "./rate_limit.ts";

/** How many faults of each kind were injected since the last reset. */
export interface InjectedFaults {
  /** 5xx answers. */
  error5xx: number;
  /** Injected 429s (not counting the real rate limiter). */
  rate429: number;
  /** Requests that hung. */
  hang: number;
  /** 200s with a truncated body. */
  malformedJson: number;
  /** 404s for ids that exist in the catalog. */
  notFound: number;
}

/** Request statistics (`GET /__control/stats`, `stats()`). */
export interface StandinStats {
  /** API requests received (control requests excluded). */
  total: number;
  /** Requests per endpoint template, e.g. `"/movie/{id}"`, `"/movie/popular"`. */
  byEndpoint: Record<string, number>;
  /** `/movie/{id}` requests per id. */
  byMovieId: Record<string, number>;
  /** Answers per HTTP status (requests aborted while hanging are not counted here). */
  byStatus: Record<string, number>;
  /** 429s from the real token bucket. */
  rateLimited: number;
  /** Most API requests received in any one second (a sliding 1,000 ms window, real time). */
  busiestSecond: number;
  /** Injected faults. */
  injected: InjectedFaults;
  /** Export file requests (`/p/exports/…`, not counted as API requests). */
  exports: { requests: number; byStatus: Record<string, number> };
  /** The simulated now (ISO). */
  now: string;
}

/** One request log line (never contains the query string, token or API key). */
export interface RequestLogEntry {
  /** Always `"request"`. */
  event: "request";
  /** HTTP method. */
  method: string;
  /** Path without the query string. */
  path: string;
  /** HTTP status answered (499 when the client went away during a hang). */
  status: number;
  /** Milliseconds spent. */
  ms: number;
  /** Injected fault, if any. */
  fault?: string;
}

type Counts = Omit<StandinStats, "now" | "busiestSecond">;

function emptyCounts(): Counts {
  return {
    total: 0,
    byEndpoint: {},
    byMovieId: {},
    byStatus: {},
    rateLimited: 0,
    injected: { error5xx: 0, rate429: 0, hang: 0, malformedJson: 0, notFound: 0 },
    exports: { requests: 0, byStatus: {} },
  };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** Collects {@link StandinStats}. */
export class StatsRecorder {
  #counts = emptyCounts();
  readonly #busiest = new BusiestSecond();

  /** Counts an API request arriving at `at` (real ms) for `endpoint` (and movie id). */
  request(endpoint: string, movieId: number | undefined, at: number): void {
    this.#counts.total++;
    this.#busiest.record(at);
    bump(this.#counts.byEndpoint, endpoint);
    if (movieId !== undefined) bump(this.#counts.byMovieId, String(movieId));
  }

  /** Counts an answer with HTTP status `status`. */
  answered(status: number): void {
    bump(this.#counts.byStatus, String(status));
  }

  /** Counts a 429 of the real token bucket. */
  rateLimited(): void {
    this.#counts.rateLimited++;
  }

  /** Counts an export file request answered with `status`. */
  exportRequest(status: number): void {
    this.#counts.exports.requests++;
    bump(this.#counts.exports.byStatus, String(status));
  }

  /** Counts an injected fault. */
  injected(kind: keyof InjectedFaults): void {
    this.#counts.injected[kind]++;
  }

  /** A snapshot (a deep copy) with the simulated now. */
  snapshot(now: Date): StandinStats {
    const c = structuredClone(this.#counts);
    return {
      total: c.total,
      byEndpoint: c.byEndpoint,
      byMovieId: c.byMovieId,
      byStatus: c.byStatus,
      rateLimited: c.rateLimited,
      busiestSecond: this.#busiest.max,
      injected: c.injected,
      exports: c.exports,
      now: now.toISOString(),
    };
  }

  /** Zeroes everything. */
  reset(): void {
    this.#counts = emptyCounts();
    this.#busiest.reset();
  }
}
