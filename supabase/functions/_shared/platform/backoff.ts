/**
 * Retry delays: capped exponential backoff with jitter, and the HTTP `Retry-After` header.
 *
 * @module
 */

/** How randomness is applied to the exponential delay `d = min(capMs, baseMs · 2^(attempt-1))`. */
export type Jitter = "full" | "equal" | "none";

/** Options for {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  baseMs: number;
  /** Upper bound on the delay, before jitter. */
  capMs: number;
  /**
   * `"full"` (default): uniform in `[0, d)` — best at spreading many clients apart.
   * `"equal"`: uniform in `[d/2, d)` — keeps a floor of half the delay.
   * `"none"`: exactly `d`.
   */
  jitter?: Jitter;
  /** Uniform random number in `[0, 1)`. Default `Math.random`. */
  random?: () => number;
}

/**
 * The delay in whole milliseconds before retry number `attempt` (1 = the first retry, i.e.
 * after the first failed attempt).
 *
 * @example
 * backoffDelay(3, { baseMs: 500, capMs: 8_000, jitter: "none" }); // 2_000
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const { baseMs, capMs, jitter = "full", random = Math.random } = options;
  if (!(Number.isInteger(attempt) && attempt >= 1)) {
    throw new RangeError(`\`attempt\` must be an integer >= 1: current value is ${attempt}`);
  }
  if (!(Number.isFinite(baseMs) && baseMs >= 0)) {
    throw new RangeError(`\`baseMs\` must be a finite number >= 0: current value is ${baseMs}`);
  }
  if (!(Number.isFinite(capMs) && capMs >= baseMs)) {
    throw new RangeError(
      `\`capMs\` must be a finite number >= baseMs (${baseMs}): current value is ${capMs}`,
    );
  }
  // 2 ** 1100 is Infinity; min() with the cap keeps the result finite.
  const exponential = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 1000));
  const r = Math.min(Math.max(random(), 0), 1);
  switch (jitter) {
    case "none":
      return Math.floor(exponential);
    case "equal":
      return Math.floor(exponential / 2 + (r * exponential) / 2);
    case "full":
      return Math.floor(r * exponential);
    default:
      throw new RangeError(
        `\`jitter\` must be "full", "equal" or "none": current value is ${String(jitter)}`,
      );
  }
}

const DELTA_SECONDS = /^\d+(\.\d+)?$/;

/**
 * Parses a `Retry-After` header into a delay in milliseconds from `nowMs`: delta-seconds
 * (`"120"`) or an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`; a date in the past gives 0).
 * Returns `null` when the header is absent or unreadable, so the caller falls back to its
 * own backoff. The caller decides on a cap.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined) return null;
  const value = header.trim();
  if (value === "") return null;
  if (DELTA_SECONDS.test(value)) return Math.ceil(Number(value) * 1000);
  // Only something that looks like a date: Date.parse() also accepts bare numbers like "-1".
  if (!/[a-z]/i.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
