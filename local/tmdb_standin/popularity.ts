/**
 * Popularity: a movie's base popularity drawn from `(seed, id)`, the popularity it shows at a
 * given version and day (the base times a recency factor around its release, times a wobble
 * redrawn at each of its changes), and every movie's popularity at one instant (for lists and
 * exports).
 *
 * @module
 */

import { unit4 } from "./random.ts";
import { SALT } from "./salts.ts";
import { NO_DATE } from "./time.ts";
import type { MovieAttributes } from "./attributes.ts";
import type { StateSnapshot } from "./changes.ts";

/** Rounds to 3 decimals (TMDB's popularity precision). */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
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
