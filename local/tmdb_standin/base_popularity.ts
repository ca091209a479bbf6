/**
 * A movie's base popularity, drawn from `(seed, id)` alone (what popularity at a given day
 * and the cached attributes both start from).
 *
 * @module
 */

import { FIGHT_CLUB_ID } from "./ids.ts";
import { unit4 } from "./random.ts";
import { SALT } from "./salts.ts";

/** Fight Club's base popularity. */
export const FIGHT_CLUB_POPULARITY = Math.fround(61.416);

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
