/**
 * The stand-in's rate limit (real time, not simulated): one token bucket whose burst is one
 * second's worth, like TMDB's "somewhere in the 50 requests per second range"; and a sliding
 * one-second window that remembers the most requests seen in any second.
 *
 * @module
 */

import type { TmdbError } from "./http.ts";

/** A token bucket; `perSecond` null = no limit. */
export class TokenBucket {
  #perSecond: number | null = null;
  #tokens = 0;
  #refilledAt = 0;
  readonly #now: () => number;

  /** A bucket refilled at `perSecond` (null = unlimited); `now` is a ms clock (real time). */
  constructor(perSecond: number | null, now: () => number = () => performance.now()) {
    this.#now = now;
    this.set(perSecond);
  }

  /** The limit (requests per second) or null. */
  get perSecond(): number | null {
    return this.#perSecond;
  }

  /** Changes the limit and fills the bucket; throws unless > 0 or null. */
  set(perSecond: number | null): void {
    if (perSecond !== null && !(perSecond > 0)) {
      throw new Error(`rateLimitPerSecond must be > 0 or null, got ${perSecond}`);
    }
    this.#perSecond = perSecond;
    this.#tokens = perSecond ?? 0;
    this.#refilledAt = this.#now();
  }

  /** Takes a token: 0 when allowed, else the seconds until the next token. */
  take(): number {
    const rate = this.#perSecond;
    if (rate === null) return 0;
    const t = this.#now();
    this.#tokens = Math.min(rate, this.#tokens + ((t - this.#refilledAt) / 1000) * rate);
    this.#refilledAt = t;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return (1 - this.#tokens) / rate;
  }
}

/** The most arrivals seen within any sliding 1,000 ms window. */
export class BusiestSecond {
  #arrivals: number[] = [];
  #max = 0;

  /** The most arrivals in any one second so far. */
  get max(): number {
    return this.#max;
  }

  /** Records an arrival at `at` (ms, non-decreasing); returns the running maximum. */
  record(at: number): number {
    let drop = 0;
    const list = this.#arrivals;
    while (drop < list.length && list[drop] <= at - 1_000) drop++;
    if (drop > 0) this.#arrivals = list.slice(drop);
    this.#arrivals.push(at);
    if (this.#arrivals.length > this.#max) this.#max = this.#arrivals.length;
    return this.#max;
  }

  /** Forgets everything. */
  reset(): void {
    this.#arrivals = [];
    this.#max = 0;
  }
}

/** TMDB's 429 / status_code 25 error, naming the limit (TMDB's own default: 40). */
export function rateLimitError(perSecond: number | null): TmdbError {
  return [
    429,
    25,
    `Your request count (#) is over the allowed limit of (${perSecond ?? 40}).`,
  ];
}
