/**
 * Additions and deletions day by day: which movies exist on which simulated day.
 *
 * Every lifecycle event happens at 00:00 UTC of its day: a movie added on day D exists from
 * D 00:00 on (404 before), a movie deleted on day D answers 404 from D 00:00 on; both show in
 * the change feed on D (`changes.ts`), and lists and exports follow. Events happen from the
 * baseline day (anchor − 30) on; before it the catalog is as it was then.
 *
 * The `size` movies of the anchor day are lattice indexes 0 .. size-1 (`ids.ts`); the rest of
 * the simulated history is laid out around them, all derived from the seed:
 *
 * - additions: `additionsRate × size` a day on average (Poisson per day). Those of
 *   baseline .. anchor are the anchor day's highest ids (TMDB hands ids out in ascending
 *   order); later ones continue the lattice above them, up to 10 years after the anchor.
 * - deletions: every movie has a daily deletion hazard `deletionsRate` (geometric deletion
 *   day, never 550). The anchor day's movies are deleted after it; the movies deleted during
 *   baseline .. anchor ("ghosts") take free ids inside the anchor day's range, one per slot.
 *
 * Movie indexes ("idx") cover the whole history: 0 .. size-1 the anchor day's movies (in id
 * order), then the ghosts (in id order), then the later additions (in id order). Everything
 * is O(1) or O(log days) per movie; the per-movie day arrays for whole-catalog scans are
 * filled on first use.
 *
 * @module
 */

import { FIGHT_CLUB_ID, type IdLattice } from "./ids.ts";
import { mulberry32, unit4 } from "./random.ts";
import { SALT } from "./salts.ts";

/** Default additions a day, as a share of the catalog size (≈ 440 a day at 1.1 M). */
export const DEFAULT_ADDITIONS_RATE = 0.0004;
/** Default daily deletion hazard of a movie (≈ 90 deletions a day at 1.1 M). */
export const DEFAULT_DELETIONS_RATE = 0.00008;
/** Additions stop this many days after the anchor. */
export const ADDITIONS_HORIZON_DAYS = 3650;
/** `addDay` of a movie that existed before the simulated history began. */
export const ALWAYS = -2147483648;
/** `deleteDay` of a movie that is never deleted. */
export const NEVER = 2147483647;

/** Options of {@link Lifecycle}. */
export interface LifecycleOptions {
  /** Mean additions a day as a share of `size` (default 0.0004; 0 = none). */
  additionsRate?: number;
  /** Daily deletion hazard of each movie (default 0.00008; 0 = none). */
  deletionsRate?: number;
}

/** Where a movie index comes from. */
export type MovieKind = "anchor" | "ghost" | "addition";

/** A Poisson(λ) variate from two uniforms (inverse transform; normal approximation if λ ≥ 30). */
export function poisson(lambda: number, u: number, v: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda >= 30) {
    const z = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  let p = Math.exp(-lambda);
  let cdf = p;
  let k = 0;
  while (u >= cdf && k < 1000) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

/** Days until deletion (≥ 0) for hazard `rate` and a uniform `u`; NEVER-ish when none. */
function geometric(rate: number, u: number): number {
  if (!(rate > 0)) return NEVER;
  const days = Math.floor(Math.log(1 - u) / Math.log(1 - rate));
  return Number.isFinite(days) ? days : NEVER;
}

function checkRate(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value <= 0.1)) {
    throw new Error(`${name} must be a number in 0..0.1 (a daily share), got ${value}`);
  }
  return value;
}

/** Which movies exist on which day; see the module doc. */
export class Lifecycle {
  /** Movies on the anchor day. */
  readonly size: number;
  /** Catalog seed (uint32). */
  readonly seed: number;
  /** The anchor day. */
  readonly anchorDay: number;
  /** First day of the simulated history (events happen from it on). */
  readonly baselineDay: number;
  /** Mean additions a day as a share of size. */
  readonly additionsRate: number;
  /** Daily deletion hazard. */
  readonly deletionsRate: number;
  /** Anchor-day movies with idx ≥ this were added during baseline .. anchor. */
  readonly firstAddedIndex: number;
  /** Movies deleted during baseline .. anchor (idx size .. size+ghostCount-1). */
  readonly ghostCount: number;
  readonly #lattice: IdLattice;
  /** Cumulative additions of baseline .. anchor: `#preCum[k]` = added on the first k days. */
  readonly #preCum: Int32Array;
  /** Cumulative later additions: `#postCum[k]` = added on anchor+1 .. anchor+k. */
  readonly #postCum: Int32Array;
  readonly #ghostIds: Uint32Array;
  readonly #ghostSlots: Int32Array;
  readonly #ghostDeleteDays: Int32Array;
  #addDays = new Int32Array(0);
  #deleteDays = new Int32Array(0);
  #filled = 0;
  #ids = new Uint32Array(0);
  #idsFilled = 0;
  readonly #countCache = new Map<number, number>();

  /** The history of a catalog over `lattice` around `anchorDay` (baseline = `baselineDay`). */
  constructor(
    lattice: IdLattice,
    anchorDay: number,
    baselineDay: number,
    options: LifecycleOptions = {},
  ) {
    this.#lattice = lattice;
    this.size = lattice.size;
    this.seed = lattice.seed;
    this.anchorDay = anchorDay;
    this.baselineDay = baselineDay;
    this.additionsRate = checkRate(
      "additionsRate",
      options.additionsRate ?? DEFAULT_ADDITIONS_RATE,
    );
    this.deletionsRate = checkRate(
      "deletionsRate",
      options.deletionsRate ?? DEFAULT_DELETIONS_RATE,
    );
    const seed = this.seed;
    const perDay = this.additionsRate * this.size;
    const count = (day: number) =>
      poisson(perDay, unit4(seed, day, 1, SALT.addCount), unit4(seed, day, 2, SALT.addCount));

    // Additions of baseline .. anchor: the anchor day's highest ids, never 550.
    const preDays = anchorDay - baselineDay + 1;
    const pre = new Int32Array(preDays);
    for (let k = 0; k < preDays; k++) pre[k] = count(baselineDay + k);
    let excess = pre.reduce((a, b) => a + b, 0) -
      Math.max(0, Math.min(this.size - 1 - lattice.fightClubIndex, Math.floor(this.size / 2)));
    for (let k = 0; k < preDays && excess > 0; k++) {
      const cut = Math.min(pre[k], excess);
      pre[k] -= cut;
      excess -= cut;
    }
    this.#preCum = new Int32Array(preDays + 1);
    for (let k = 0; k < preDays; k++) this.#preCum[k + 1] = this.#preCum[k] + pre[k];
    this.firstAddedIndex = this.size - this.#preCum[preDays];

    // Later additions, up to the horizon.
    this.#postCum = new Int32Array(ADDITIONS_HORIZON_DAYS + 1);
    for (let k = 1; k <= ADDITIONS_HORIZON_DAYS; k++) {
      this.#postCum[k] = this.#postCum[k - 1] + count(anchorDay + k);
    }

    // Ghosts: deleted during baseline .. anchor, placed one per block of slots.
    const days: number[] = [];
    const ghostRate = this.deletionsRate * this.size;
    for (let d = baselineDay; d <= anchorDay; d++) {
      const n = poisson(
        ghostRate,
        unit4(seed, d, 1, SALT.ghostCount),
        unit4(seed, d, 2, SALT.ghostCount),
      );
      for (let j = 0; j < n; j++) days.push(d);
    }
    const wanted = Math.min(days.length, Math.floor(this.size / 4));
    const ids: number[] = [];
    const slots: number[] = [];
    let lastSlot = -1;
    for (let k = 0; k < wanted; k++) {
      const start = Math.floor((k + unit4(seed, k, 0, SALT.ghostPlace)) * this.size / wanted);
      for (let s = Math.max(start, lastSlot + 1); s < Math.min(this.size, start + 4); s++) {
        const from = lattice.slotStart(s);
        const width = lattice.slotStart(s + 1) - from;
        if (width < 2) continue;
        const taken = lattice.idAt(s);
        let id = from + Math.floor(unit4(seed, k, 1, SALT.ghostPlace) * (width - 1));
        if (id >= taken) id++;
        ids.push(id);
        slots.push(s);
        lastSlot = s;
        break;
      }
    }
    // Deletion days in random order (not by id).
    const next = mulberry32(unit4(seed, 0, 0, SALT.ghostShuffle) * 4294967296);
    for (let i = days.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [days[i], days[j]] = [days[j], days[i]];
    }
    this.ghostCount = ids.length;
    this.#ghostIds = Uint32Array.from(ids);
    this.#ghostSlots = Int32Array.from(slots);
    this.#ghostDeleteDays = Int32Array.from(days.slice(0, ids.length));
  }

  /** Later additions on days anchor+1 .. `day` (0 up to the anchor). */
  #postThrough(day: number): number {
    const k = Math.min(ADDITIONS_HORIZON_DAYS, day - this.anchorDay);
    return k <= 0 ? 0 : this.#postCum[k];
  }

  /** Number of movie indexes that exist at some instant up to the end of `day`. */
  countBy(day: number): number {
    return this.size + this.ghostCount + this.#postThrough(day);
  }

  /** Every movie index of the whole history (up to the additions horizon). */
  get total(): number {
    return this.size + this.ghostCount + this.#postCum[ADDITIONS_HORIZON_DAYS];
  }

  /** Where movie index `idx` comes from. */
  kindOf(idx: number): MovieKind {
    if (idx < this.size) return "anchor";
    return idx < this.size + this.ghostCount ? "ghost" : "addition";
  }

  /** TMDB id of movie index `idx`. */
  idOf(idx: number): number {
    if (idx < this.size) return this.#lattice.idAt(idx);
    const g = idx - this.size;
    if (g < this.ghostCount) return this.#ghostIds[g];
    return this.#lattice.idAt(this.size + g - this.ghostCount);
  }

  /** Lattice slot of movie index `idx` (its neighbours share collections). */
  slotOf(idx: number): number {
    if (idx < this.size) return idx;
    const g = idx - this.size;
    if (g < this.ghostCount) return this.#ghostSlots[g];
    return this.size + g - this.ghostCount;
  }

  /** Movie index of a TMDB id in the whole history, or -1 (O(log ghosts)). */
  indexOf(id: number): number {
    const l = this.#lattice.latticeIndexOf(id);
    if (l >= 0) {
      if (l < this.size) return l;
      const j = l - this.size;
      return j < this.#postCum[ADDITIONS_HORIZON_DAYS] ? this.size + this.ghostCount + j : -1;
    }
    const ghosts = this.#ghostIds;
    let lo = 0;
    let hi = ghosts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (ghosts[mid] === id) return this.size + mid;
      if (ghosts[mid] < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Day movie index `idx` was added ({@link ALWAYS}: before the simulated history). */
  addDay(idx: number): number {
    if (idx < this.#filled) return this.#addDays[idx];
    if (idx < this.firstAddedIndex) return ALWAYS;
    if (idx < this.size) {
      return this.baselineDay + upperBound(this.#preCum, idx - this.firstAddedIndex) - 1;
    }
    const g = idx - this.size;
    if (g < this.ghostCount) return ALWAYS;
    return this.anchorDay + upperBound(this.#postCum, g - this.ghostCount);
  }

  /** Day movie index `idx` is deleted ({@link NEVER}: not within reach). */
  deleteDay(idx: number): number {
    if (idx < this.#filled) return this.#deleteDays[idx];
    const g = idx - this.size;
    if (g >= 0 && g < this.ghostCount) return this.#ghostDeleteDays[g];
    const id = this.idOf(idx);
    if (id === FIGHT_CLUB_ID) return NEVER;
    const after = idx < this.size ? this.anchorDay : this.addDay(idx);
    const wait = geometric(this.deletionsRate, unit4(this.seed, id, 0, SALT.deletion));
    return wait >= NEVER - after - 1 ? NEVER : after + 1 + wait;
  }

  /** Whether movie index `idx` exists on `day` (added at or before its 00:00, not yet deleted). */
  existsOn(idx: number, day: number): boolean {
    return this.addDay(idx) <= day && day < this.deleteDay(idx);
  }

  /** Fills the day arrays for indexes 0 .. n-1 (whole-catalog scans read them). */
  fill(n: number): void {
    if (n <= this.#filled) return;
    if (n > this.#addDays.length) {
      const capacity = Math.max(n, Math.ceil(this.#addDays.length * 1.25));
      const add = new Int32Array(capacity);
      const del = new Int32Array(capacity);
      add.set(this.#addDays.subarray(0, this.#filled));
      del.set(this.#deleteDays.subarray(0, this.#filled));
      this.#addDays = add;
      this.#deleteDays = del;
    }
    for (let i = this.#filled; i < n; i++) {
      this.#addDays[i] = this.addDay(i);
      this.#deleteDays[i] = this.deleteDay(i);
    }
    this.#filled = n;
  }

  /** Add days of indexes 0 .. n-1 (filled first; a view, valid until the next growth). */
  addDays(n: number): Int32Array {
    this.fill(n);
    return this.#addDays.subarray(0, n);
  }

  /** Delete days of indexes 0 .. n-1 (filled first; a view). */
  deleteDays(n: number): Int32Array {
    this.fill(n);
    return this.#deleteDays.subarray(0, n);
  }

  /** TMDB ids of indexes 0 .. n-1 (cached, grown on demand; a view). */
  ids(n: number): Uint32Array {
    if (n > this.#idsFilled) {
      if (n > this.#ids.length) {
        const grown = new Uint32Array(Math.max(n, Math.ceil(this.#ids.length * 1.25)));
        grown.set(this.#ids.subarray(0, this.#idsFilled));
        this.#ids = grown;
      }
      let i = this.#idsFilled;
      if (i < this.size) {
        this.#ids.set(this.#lattice.baseIds().subarray(i, Math.min(n, this.size)), i);
        i = Math.min(n, this.size);
      }
      for (; i < n; i++) this.#ids[i] = this.idOf(i);
      this.#idsFilled = n;
    }
    return this.#ids.subarray(0, n);
  }

  /** Number of movies existing on `day` (cached per day). */
  countOn(day: number): number {
    const cached = this.#countCache.get(day);
    if (cached !== undefined) return cached;
    const n = this.countBy(day);
    const add = this.addDays(n);
    const del = this.deleteDays(n);
    let count = 0;
    for (let i = 0; i < n; i++) if (add[i] <= day && day < del[i]) count++;
    if (this.#countCache.size > 64) this.#countCache.clear();
    this.#countCache.set(day, count);
    return count;
  }

  /** Movie indexes added and deleted on `day` (each ascending by idx). */
  eventsOn(day: number): { added: number[]; deleted: number[] } {
    const n = this.countBy(day);
    const add = this.addDays(n);
    const del = this.deleteDays(n);
    const added: number[] = [];
    const deleted: number[] = [];
    for (let i = 0; i < n; i++) {
      if (add[i] === day) added.push(i);
      if (del[i] === day) deleted.push(i);
    }
    return { added, deleted };
  }
}

/** Smallest k with `cum[k] > x` (cum non-decreasing, cum[0] = 0 ≤ x). */
function upperBound(cum: Int32Array, x: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
