/**
 * Telling a run that TMDB as a whole is failing, rather than one movie: the message of a
 * rejected token ({@link tmdbUnauthorizedMessage}) and a circuit breaker that trips after a
 * run of consecutive outage failures ({@link TmdbBreaker}).
 *
 * @module
 */

import { TmdbError, type TmdbErrorKind } from "./client.ts";

/** The message of a run stopped because TMDB answered 401. */
export function tmdbUnauthorizedMessage(error: TmdbError): string {
  const code = error.statusCode !== null
    ? `status_code ${error.statusCode}`
    : `HTTP ${error.httpStatus ?? 401}`;
  return `TMDB rejected the credentials (${code}): check TMDB_API_TOKEN`;
}

/** Why a {@link TmdbBreaker} tripped. */
export interface BreakerTrip {
  /** Consecutive outage failures when it tripped (the threshold). */
  failures: number;
  /** The kind of the first failure of that run. */
  kind: TmdbErrorKind;
  /** The message of the first failure of that run. */
  message: string;
}

/**
 * Counts consecutive TMDB outage failures (the retryable kinds, `RETRYABLE_KINDS`) and trips after
 * `threshold` of them with no answer from TMDB in between. Calls are counted in the order
 * they complete, whichever task made them.
 *
 * - {@link TmdbBreaker.success}: TMDB answered (a movie, or a 404: TMDB is up) → the count
 *   goes back to 0.
 * - {@link TmdbBreaker.failure}: an outage kind adds one; a 404 counts as an answer; any
 *   other failure (401, a malformed body, a caller abort, a non-TMDB error) neither adds nor
 *   resets: it says nothing about TMDB being reachable.
 *
 * Once tripped it stays tripped ({@link TmdbBreaker.tripped}).
 *
 * @example
 * const breaker = new TmdbBreaker(10);
 * if (breaker.failure(error)) abort.abort(new Error("TMDB is unavailable"));
 */
export class TmdbBreaker {
  /** Outage failures that trip the breaker. */
  readonly threshold: number;
  #count = 0;
  #first: { kind: TmdbErrorKind; message: string } | null = null;
  #tripped: BreakerTrip | null = null;

  /** Creates a closed breaker; `threshold` is a positive integer. */
  constructor(threshold: number) {
    if (!(Number.isInteger(threshold) && threshold > 0)) {
      throw new RangeError(
        `\`threshold\` must be a positive integer: current value is ${threshold}`,
      );
    }
    this.threshold = threshold;
  }

  /** Consecutive outage failures so far. */
  get consecutive(): number {
    return this.#count;
  }

  /** Why it tripped, or `null` while it has not. */
  get tripped(): BreakerTrip | null {
    return this.#tripped;
  }

  /** Records an answer from TMDB: the count goes back to 0. */
  success(): void {
    this.#count = 0;
    this.#first = null;
  }

  /** Records a failed call; `true` when this very failure trips the breaker. */
  failure(error: unknown): boolean {
    if (!(error instanceof TmdbError)) return false;
    if (error.kind === "not_found") {
      this.success();
      return false;
    }
    if (!error.retryable) return false;
    this.#count++;
    this.#first ??= { kind: error.kind, message: error.message };
    if (this.#tripped !== null || this.#count < this.threshold) return false;
    this.#tripped = { failures: this.#count, ...this.#first };
    return true;
  }
}
