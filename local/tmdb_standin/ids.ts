/**
 * TMDB ids of the synthetic catalog and their sparsity.
 *
 * The id range is cut into equal slots, one per lattice index; the movie at lattice index `i`
 * has one id inside slot `i`, at a position drawn from `(seed, i)`. Indexes `0 .. size-1` are
 * the movies of the anchor day; indexes from `size` on continue the lattice above them (the
 * ids of movies added later, which TMDB hands out in ascending order). The other ids of a
 * slot do not exist (404), except the few deleted movies that `lifecycle.ts` places there.
 *
 * The range is 2 .. max(1,500,000, 1.5 × size): a 1.1–1.2 M catalog has ids up to 1.65–1.8 M
 * with a third of the ids below its largest missing, like TMDB's (about 1.1 M movies, ids up
 * to ~1.74 M); a smaller catalog is a thinned sample of the same range. Id 550 always exists.
 *
 * Everything is O(1) arithmetic: `idAt(i)` and `latticeIndexOf(id)` need no table. The sorted
 * array of the anchor day's ids is built only when asked for (`baseIds()`, ~4 bytes a movie).
 *
 * @module
 */

import { unit4 } from "./random.ts";
import { SALT } from "./salts.ts";

/** The id everyone tries first ("Fight Club"); it always exists. */
export const FIGHT_CLUB_ID = 550;
/** The smallest id the lattice hands out. */
export const MIN_ID = 2;
/** Largest catalog size accepted. */
export const MAX_SIZE = 5_000_000;

/** The id lattice of a catalog of `size` movies. */
export class IdLattice {
  /** Movies on the anchor day (lattice indexes 0 .. size-1). */
  readonly size: number;
  /** Catalog seed (uint32). */
  readonly seed: number;
  /** Upper end of the anchor day's id range: max(1,500,000, ceil(1.5 × size)). */
  readonly span: number;
  /** Width of one slot (ids per lattice index, ≥ 1). */
  readonly width: number;
  /** How many leading positions of a slot the movie's id may take (floor(width), ≥ 1). */
  readonly jitter: number;
  /** Lattice index whose id is 550. */
  readonly fightClubIndex: number;
  #baseIds: Uint32Array | null = null;

  /** A lattice for `size` movies (1..5,000,000) and an integer seed. */
  constructor(size: number, seed: number) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) {
      throw new Error(`catalog size must be an integer in 1..${MAX_SIZE}, got ${size}`);
    }
    if (!Number.isInteger(seed)) throw new Error(`catalog seed must be an integer, got ${seed}`);
    this.size = size;
    this.seed = seed >>> 0;
    this.span = Math.max(1_500_000, Math.ceil(size * 1.5));
    this.width = (this.span - MIN_ID) / size;
    this.jitter = Math.max(1, Math.floor(this.width));
    let fight = Math.min(size - 1, Math.floor((FIGHT_CLUB_ID - MIN_ID) / this.width));
    while (fight > 0 && this.slotStart(fight) > FIGHT_CLUB_ID) fight--;
    while (fight < size - 1 && this.slotStart(fight + 1) <= FIGHT_CLUB_ID) fight++;
    this.fightClubIndex = fight;
  }

  /** First id of slot `i`. */
  slotStart(i: number): number {
    return MIN_ID + Math.floor(i * this.width);
  }

  /** The id of lattice index `i` (any i ≥ 0; indexes ≥ size are later additions). */
  idAt(i: number): number {
    if (i === this.fightClubIndex) return FIGHT_CLUB_ID;
    return this.slotStart(i) + Math.floor(unit4(this.seed, i, 0, SALT.id) * this.jitter);
  }

  /** The slot holding `id`: the largest i with `slotStart(i) ≤ id` (-1 below the range). */
  slotOf(id: number): number {
    if (!(id >= MIN_ID)) return -1;
    let i = Math.floor((id - MIN_ID) / this.width);
    while (i > 0 && this.slotStart(i) > id) i--;
    while (this.slotStart(i + 1) <= id) i++;
    return i;
  }

  /** The lattice index whose id is `id`, or -1 (O(1)). */
  latticeIndexOf(id: number): number {
    if (!Number.isSafeInteger(id)) return -1;
    const i = this.slotOf(id);
    return i >= 0 && this.idAt(i) === id ? i : -1;
  }

  /** The anchor day's ids (lattice 0 .. size-1), sorted; built on first use, then cached. */
  baseIds(): Uint32Array {
    if (this.#baseIds) return this.#baseIds;
    const ids = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) ids[i] = this.idAt(i);
    this.#baseIds = ids;
    return ids;
  }
}
