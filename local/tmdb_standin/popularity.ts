/**
 * Popularity: a movie's base popularity drawn from `(seed, id)`, the popularity it shows at a
 * given version and day (the base times a recency factor around its release, times a wobble
 * redrawn at each of its changes), and every movie's popularity at one instant (for lists and
 * exports).
 *
 * @module
 */

import { FIGHT_CLUB_ID } from "./ids.ts";
import { unit4 } from "./random.ts";
import { SALT } from "./salts.ts";
import { NO_DATE } from "./time.ts";
import type { MovieAttributes } from "./attributes.ts";
import type { StateSnapshot } from "./changes.ts";

/** Fight Club's base popularity. */
export const FIGHT_CLUB_POPULARITY = Math.fround(61.416);

/** Rounds to 3 decimals (TMDB's popularity precision). */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Share of "dormant" movies: base popularity in [0.6, 0.7) (TMDB's long tail near 0.6). */
export const DORMANT_SHARE = 0.6;
/** Tail index of the active movies' base popularity (Pareto from 0.7). */
export const TAIL_INDEX = 1.5;

/**
 * Base popularity of a movie (a float32 value, as cached), heavy-tailed like TMDB's: 60 % of
 * movies are dormant, in [0.6, 0.7); the others follow a Pareto law from 0.7 with tail index
 * 1.5 (P(base > x) = 0.4 · (0.7 / x)^1.5): about 0.7 % above 10, 0.02 % above 100, a handful
 * above 1,000 in a 1.2 M catalog. Served popularity multiplies this by the recency boost and
 * a per-change wobble (see {@link popularityAt}).
 */
export function basePopularityOf(seed: number, id: number): number {
  if (id === FIGHT_CLUB_ID) return FIGHT_CLUB_POPULARITY;
  const kind = unit4(seed, id, 2, SALT.pop);
  const u = unit4(seed, id, 3, SALT.pop);
  if (kind < DORMANT_SHARE) return Math.fround(0.6 + 0.1 * u * u);
  return Math.fround(0.7 * (1 - u) ** (-1 / TAIL_INDEX));
}

/**
 * How much a movie's release boosts it on `day`: up to ×4 in the month before release, up to
 * ×7 just after and fading over ~3 months, ×0.6 without a date, else 1.
 */
export function recencyFactor(releaseDay: number, day: number): number {
  if (releaseDay === NO_DATE) return 0.6;
  if (day < releaseDay) return 1 + 3 * Math.exp(-(releaseDay - day) / 30);
  if (day - releaseDay <= 90) return 1 + 6 * Math.exp(-(day - releaseDay) / 20);
  return 1;
}

/**
 * The popularity a movie shows at `version` (its number of changes so far) on `day`: base ×
 * recency × a wobble in [0.8, 1.2) redrawn per version, rounded to 3 decimals.
 */
export function popularityAt(
  seed: number,
  id: number,
  base: number,
  releaseDay: number,
  version: number,
  day: number,
): number {
  const wobble = 0.8 + 0.4 * unit4(seed, id, version, SALT.wobble);
  return round3(base * recencyFactor(releaseDay, day) * wobble);
}

/** What {@link PopularityBoard} reads. */
export interface BoardFacts {
  /** Catalog seed (uint32). */
  readonly seed: number;
  /** Number of movie indexes to consider at `atMs`. */
  countAt(atMs: number): number;
  /** TMDB ids of movie indexes 0 .. n-1. */
  ids(n: number): Uint32Array;
  /** Release days and base popularities. */
  readonly attributes: MovieAttributes;
  /** Every movie's state at `atMs`. */
  snapshot(atMs: number): StateSnapshot;
}

/** Every movie's popularity at one instant. */
export interface Board {
  /** The instant (epoch ms). */
  atMs: number;
  /** Number of movie indexes covered. */
  count: number;
  /** Popularity per movie index (what details and list items show at `atMs`). */
  popularity: Float64Array;
}

/** Every movie's popularity at an instant (the last one asked for is cached). */
export class PopularityBoard {
  readonly #facts: BoardFacts;
  #cache: Board | null = null;

  /** A board over `facts`. */
  constructor(facts: BoardFacts) {
    this.#facts = facts;
  }

  /** Popularity of every movie at `atMs` (same values as details and list items then). */
  at(atMs: number): Board {
    if (this.#cache?.atMs === atMs) return this.#cache;
    const f = this.#facts;
    const count = f.countAt(atMs);
    const state = f.snapshot(atMs);
    const release = f.attributes.releaseDays(count);
    const base = f.attributes.basePopularities(count);
    const ids = f.ids(count);
    const popularity = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      popularity[i] = popularityAt(
        f.seed,
        ids[i],
        base[i],
        release[i],
        state.version[i],
        state.day[i],
      );
    }
    this.#cache = { atMs, count, popularity };
    return this.#cache;
  }
}
