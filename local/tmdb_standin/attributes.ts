/**
 * The few per-movie facts everything else is laid out around — release day, adult flag, base
 * popularity — each a pure function of `(seed, id)` (and the anchor day for release days), and
 * a lazily filled typed-array cache of them for the scans over the whole catalog (lists, change
 * feed, exports). Nothing is computed up front: a single movie's facts are computed on the
 * spot; the arrays are filled the first time a scan needs them (~10 bytes a movie).
 *
 * @module
 */

import { FIGHT_CLUB_ID } from "./ids.ts";
import { basePopularityOf } from "./base_popularity.ts";
import { unit4 } from "./random.ts";
import { SALT } from "./salts.ts";
import { DAY_MS, dayOf, NO_DATE } from "./time.ts";

export { NO_DATE };
/** Share of adult movies (left out of lists and of the main export file, like TMDB). */
export const ADULT_SHARE = 0.01;

const DAY_1920 = Math.floor(Date.UTC(1920, 0, 1) / DAY_MS);
const FIGHT_CLUB_RELEASE = dayOf(Date.UTC(1999, 9, 15));

/**
 * Release day of a movie (UTC day number) or {@link NO_DATE}, relative to the anchor day A:
 * ~3 % no date, then of the rest ~2 % upcoming (up to 180 days after A), ~5 % in the 30 days
 * before A, ~10 % in the year before, the others back to 1920 (denser towards A).
 */
export function releaseDayOf(seed: number, id: number, anchorDay: number): number {
  if (id === FIGHT_CLUB_ID) return FIGHT_CLUB_RELEASE;
  const A = anchorDay;
  const k = unit4(seed, id, 0, SALT.releaseKind);
  const u = unit4(seed, id, 1, SALT.release);
  if (k < 0.03) return NO_DATE;
  const v = (k - 0.03) / 0.97;
  if (v < 0.02) return A + 1 + Math.floor(180 * u ** 1.5);
  if (v < 0.07) return A - Math.floor(30 * u);
  if (v < 0.17) return A - 30 - Math.floor(335 * u);
  return A - 365 - Math.floor((A - 365 - DAY_1920) * u * u);
}

/** Whether a movie is adult (~1 %; never 550). */
export function adultOf(seed: number, id: number): boolean {
  return id !== FIGHT_CLUB_ID && unit4(seed, id, 0, SALT.adult) < ADULT_SHARE;
}

/**
 * Release day, adult flag and base popularity per movie index, cached in typed arrays that are
 * filled on demand (`fill(n)` covers indexes 0 .. n-1; single lookups past the filled part are
 * computed without filling).
 */
export class MovieAttributes {
  readonly #seed: number;
  readonly #anchorDay: number;
  readonly #idOf: (idx: number) => number;
  #release = new Int32Array(0);
  #pop = new Float32Array(0);
  #adult = new Uint8Array(0);
  #filled = 0;

  /** Attributes of the movies `idOf(0)`, `idOf(1)`, … of a catalog. */
  constructor(seed: number, anchorDay: number, idOf: (idx: number) => number) {
    this.#seed = seed;
    this.#anchorDay = anchorDay;
    this.#idOf = idOf;
  }

  /** How many leading indexes are cached. */
  get filled(): number {
    return this.#filled;
  }

  /** Caches indexes 0 .. n-1 (grows the arrays; a no-op when they already cover n). */
  fill(n: number): void {
    if (n <= this.#filled) return;
    if (n > this.#release.length) {
      const capacity = Math.max(n, Math.ceil(this.#release.length * 1.25));
      const release = new Int32Array(capacity);
      const pop = new Float32Array(capacity);
      const adult = new Uint8Array(capacity);
      release.set(this.#release.subarray(0, this.#filled));
      pop.set(this.#pop.subarray(0, this.#filled));
      adult.set(this.#adult.subarray(0, this.#filled));
      this.#release = release;
      this.#pop = pop;
      this.#adult = adult;
    }
    const seed = this.#seed;
    for (let i = this.#filled; i < n; i++) {
      const id = this.#idOf(i);
      this.#release[i] = releaseDayOf(seed, id, this.#anchorDay);
      this.#pop[i] = basePopularityOf(seed, id);
      this.#adult[i] = adultOf(seed, id) ? 1 : 0;
    }
    this.#filled = n;
  }

  /** Release day of index `idx` (or {@link NO_DATE}). */
  releaseDay(idx: number): number {
    if (idx < this.#filled) return this.#release[idx];
    return releaseDayOf(this.#seed, this.#idOf(idx), this.#anchorDay);
  }

  /** Base popularity of index `idx` (a float32 value). */
  basePopularity(idx: number): number {
    if (idx < this.#filled) return this.#pop[idx];
    return basePopularityOf(this.#seed, this.#idOf(idx));
  }

  /** Whether index `idx` is adult. */
  adult(idx: number): boolean {
    if (idx < this.#filled) return this.#adult[idx] === 1;
    return adultOf(this.#seed, this.#idOf(idx));
  }

  /** Release days of indexes 0 .. n-1 (filled first; a view, valid until the next growth). */
  releaseDays(n: number): Int32Array {
    this.fill(n);
    return this.#release.subarray(0, n);
  }

  /** Base popularities of indexes 0 .. n-1 (filled first; a view). */
  basePopularities(n: number): Float32Array {
    this.fill(n);
    return this.#pop.subarray(0, n);
  }

  /** Adult flags (1 = adult) of indexes 0 .. n-1 (filled first; a view). */
  adultFlags(n: number): Uint8Array {
    this.fill(n);
    return this.#adult.subarray(0, n);
  }
}
