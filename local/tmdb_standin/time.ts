/**
 * Time for the TMDB stand-in: UTC day numbers, their `YYYY-MM-DD` form, and the simulated
 * clock (a base clock plus an offset that the control API moves).
 *
 * @module
 */

/** Milliseconds per day. */
export const DAY_MS = 86_400_000;
/** Milliseconds per hour (lists are recomputed at most once per simulated hour). */
export const HOUR_MS = 3_600_000;
/** The day number standing for "no date" (a movie whose `release_date` is `""`). */
export const NO_DATE = -2147483648;

/**
 * Formats a UTC day number (days since 1970-01-01) as `YYYY-MM-DD`: the civil-from-days
 * arithmetic (proleptic Gregorian), the same text as `toISOString()` gives for years
 * 0..9999 at a fraction of its cost (it runs for every date of every payload).
 */
export function isoDay(day: number): string {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) return new Date(day * DAY_MS).toISOString().slice(0, 10);
  return `${String(y).padStart(4, "0")}-${m < 10 ? "0" : ""}${m}-${d < 10 ? "0" : ""}${d}`;
}

/** UTC day number of an instant (epoch ms). */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** Epoch ms of a date given as a `Date`, a parseable string or epoch ms; throws if invalid. */
export function toMs(value: Date | string | number, what = "date"): number {
  const ms = value instanceof Date ? value.getTime() : new Date(value).getTime();
  if (!Number.isFinite(ms)) throw new Error(`${what} is not a valid date: ${value}`);
  return ms;
}

/**
 * The stand-in's simulated clock: `base()` (real time by default) plus an offset. Setting or
 * advancing it moves the offset; time keeps flowing from the set point with the base clock.
 */
export class SimClock {
  readonly #base: () => Date;
  #offsetMs = 0;

  /** Creates a clock over `base` (default: real time). */
  constructor(base: () => Date = () => new Date()) {
    this.#base = base;
  }

  /** The simulated now, epoch ms. */
  nowMs(): number {
    return this.#base().getTime() + this.#offsetMs;
  }

  /** The simulated now. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** Sets the simulated now; throws on an invalid date. */
  setNow(date: Date | string): void {
    const ms = date instanceof Date ? date.getTime() : Date.parse(date);
    if (!Number.isFinite(ms)) throw new Error(`setNow: not a valid date: ${date}`);
    this.#offsetMs = ms - this.#base().getTime();
  }

  /** Moves the simulated clock by `ms` (may be negative); throws on a non-finite number. */
  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new Error(`advance: not a finite number: ${ms}`);
    this.#offsetMs += ms;
  }
}
