/**
 * Telling a run that TMDB as a whole is failing, rather than one movie: the message of a
 * rejected token ({@link tmdbUnauthorizedMessage}), a circuit breaker that trips after a run
 * of consecutive outage failures ({@link TmdbBreaker}), and the guard a run's TMDB calls go
 * through, which stops them all at the first 401 or when the breaker trips
 * ({@link TmdbRunGuard}).
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
 *   other failure (401, a malformed body, a caller abort, a call whose deadline passed before
 *   any request was made, a non-TMDB error) neither adds nor resets: it says nothing about
 *   TMDB being reachable.
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
    // No request was made (the caller's deadline passed before it started): nothing is known
    // of TMDB. A run ending at its wall budget with calls still waiting for a token must not
    // read as an outage (it answered 502 and ended its chain).
    if (!error.retryable || error.attempts === 0) return false;
    this.#count++;
    this.#first ??= { kind: error.kind, message: error.message };
    if (this.#tripped !== null || this.#count < this.threshold) return false;
    this.#tripped = { failures: this.#count, ...this.#first };
    return true;
  }
}

/**
 * The one place a run's TMDB calls go through: at the first 401 (the credentials are
 * rejected: every other call would fail the same way), or when its breaker trips, it aborts
 * {@link TmdbRunGuard.signal} so no new call starts and the calls in flight end at once.
 *
 * @example
 * const guard = new TmdbRunGuard({ breakerThreshold: 10 });
 * const text = await guard.call(() => tmdb.movieDetailsText(id, { signal: guard.signal }));
 * if (guard.unauthorized) …
 */
export class TmdbRunGuard {
  readonly #abort = new AbortController();
  readonly #breaker: TmdbBreaker | null;
  #unauthorized: TmdbError | null = null;
  #unavailable: BreakerTrip | null = null;

  /** Without `breakerThreshold`, only a 401 stops the run. */
  constructor(options: { breakerThreshold?: number } = {}) {
    this.#breaker = options.breakerThreshold === undefined
      ? null
      : new TmdbBreaker(options.breakerThreshold);
  }

  /** Aborted once the run must stop calling TMDB. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The 401 that stopped the run, if one did. */
  get unauthorized(): TmdbError | null {
    return this.#unauthorized;
  }

  /** Why the breaker stopped the run, if it did. */
  get unavailable(): BreakerTrip | null {
    return this.#unavailable;
  }

  /** Runs one TMDB call (refused once the run is stopped) and learns from its outcome. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
    try {
      const result = await fn();
      this.#breaker?.success();
      return result;
    } catch (error) {
      if (error instanceof TmdbError && error.kind === "unauthorized") {
        this.#unauthorized ??= error;
        this.#abort.abort(new Error("TMDB rejected the credentials"));
      } else if (this.#breaker?.failure(error) && !this.#abort.signal.aborted) {
        this.#unavailable = this.#breaker.tripped;
        this.#abort.abort(new Error("TMDB is unreachable or failing"));
      }
      throw error;
    }
  }
}
