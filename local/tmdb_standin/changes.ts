/**
 * The change feed: each movie's change instants (at most one per UTC day, drawn per
 * (movie, day) with a probability that depends on how close the day is to its release; always
 * one on its release day), its state at any instant (how many changes so far, and the day of
 * the last), and `/movie/changes` pages. Changes are simulated from the catalog's baseline day
 * (anchor − 30) on: the feed lists nothing before it.
 *
 * A movie's addition and deletion (`lifecycle.ts`) are change instants too, at 00:00 of their
 * day: it has none before it is added, nor after it is deleted.
 *
 * Single movies are answered by walking their days; whole-catalog questions (which movies
 * changed in a window, every movie's state at an instant) by per-day change lists (one hash
 * per movie and day, cached) and a running per-movie tally over whole days.
 *
 * @module
 */

import type { MovieAttributes } from "./attributes.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { unit4 } from "./random.ts";
import { SALT } from "./salts.ts";
import { DAY_MS, dayOf, NO_DATE } from "./time.ts";

/** Changes are simulated from this many days before the anchor day. */
export const BASELINE_DAYS = 30;
/** Ids per `/movie/changes` page. */
export const CHANGES_PAGE_SIZE = 100;
/** Sentinel "no day" in day arrays. */
const NONE = -2147483648;
/** Per-day change lists kept in memory. */
const DAY_CACHE_SIZE = 400;

/** A movie's mutable state as of some instant. */
export interface MovieState {
  /** Number of change instants in [baseline, T]. */
  version: number;
  /** Epoch ms of the last change instant ≤ T, or the baseline start when there is none. */
  instant: number;
  /** UTC day number (days since 1970-01-01) the state is evaluated at. */
  day: number;
}

/** A `/movie/changes` page. */
export interface ChangesPage {
  results: { id: number; adult: boolean }[];
  page: number;
  total_pages: number;
  total_results: number;
}

/** Every movie's state as of an instant (indexes 0 .. count-1). */
export interface StateSnapshot {
  /** The instant (epoch ms). */
  atMs: number;
  /** Number of movie indexes covered. */
  count: number;
  /** Version per movie index. */
  version: Int32Array;
  /** State day per movie index (the day its popularity and votes are evaluated at). */
  day: Int32Array;
}

/** The movies whose changes the feed simulates. */
export interface ChangeFacts {
  /** Catalog seed (uint32). */
  readonly seed: number;
  /** First simulated day (anchor − 30). */
  readonly baselineDay: number;
  /** Which movies exist on which day (movie indexes, their count by a day). */
  readonly lifecycle: Lifecycle;
  /** TMDB id of a movie index. */
  idOf(idx: number): number;
  /** TMDB ids of movie indexes 0 .. n-1 (for the scans). */
  ids(n: number): Uint32Array;
  /** Release days, adult flags. */
  readonly attributes: MovieAttributes;
}

interface DayChanges {
  idx: Int32Array;
  offset: Int32Array;
}

interface Cumulative {
  through: number;
  version: Int32Array;
  lastDay: Int32Array;
}

/**
 * Probability that a movie released on day `r` changes on day `d`: 1 on its release day, 20 %
 * in the 60 days before (5 % earlier), 15 % in the 30 days after, 2 % up to a year, 0.2 %
 * after that, 1 % without a date.
 */
export function changeProbability(r: number, d: number): number {
  if (r === NO_DATE) return 0.01;
  const age = d - r;
  if (age < 0) return age >= -60 ? 0.2 : 0.05;
  if (age === 0) return 1;
  if (age <= 30) return 0.15;
  if (age <= 365) return 0.02;
  return 0.002;
}

/** The change model of one catalog. */
export class ChangeModel {
  readonly #facts: ChangeFacts;
  readonly #dayCache = new Map<number, DayChanges>();
  #cumulative: Cumulative | null = null;
  #changesCache: { key: string; idx: Int32Array } | null = null;

  /** The change model over `facts`. */
  constructor(facts: ChangeFacts) {
    this.#facts = facts;
  }

  /** Ms offset within day `day` of movie index `idx`'s change that day, or -1 if none. */
  changeOffset(idx: number, day: number): number {
    const f = this.#facts;
    const added = f.lifecycle.addDay(idx);
    if (day < added) return -1;
    if (day === added) return 0;
    const deleted = f.lifecycle.deleteDay(idx);
    if (day > deleted) return -1;
    if (day === deleted) return 0;
    const p = changeProbability(f.attributes.releaseDay(idx), day);
    const id = f.idOf(idx);
    if (p < 1 && unit4(f.seed, id, day, SALT.change) >= p) return -1;
    return Math.floor(unit4(f.seed, id, day, SALT.changeAt) * DAY_MS);
  }

  /** Movie index `idx`'s state (version, last change) as of `atMs`. */
  stateAt(idx: number, atMs: number): MovieState {
    const baseline = this.#facts.baselineDay;
    const today = dayOf(atMs);
    let version = 0;
    let last = -1;
    for (let d = baseline; d <= today; d++) {
      const off = this.changeOffset(idx, d);
      if (off < 0) continue;
      const instant = d * DAY_MS + off;
      if (instant > atMs) continue;
      version++;
      last = instant;
    }
    if (last < 0) {
      const day = Math.min(baseline, today);
      return { version: 0, instant: Math.min(baseline * DAY_MS, atMs), day };
    }
    return { version, instant: last, day: dayOf(last) };
  }

  /** Movie index `idx`'s change instants (epoch ms) in [startMs, endMs), baseline on. */
  changeInstants(idx: number, startMs: number, endMs: number): number[] {
    const out: number[] = [];
    const from = Math.max(this.#facts.baselineDay, dayOf(startMs));
    for (let d = from; d * DAY_MS < endMs; d++) {
      const off = this.changeOffset(idx, d);
      if (off < 0) continue;
      const instant = d * DAY_MS + off;
      if (instant >= startMs && instant < endMs) out.push(instant);
    }
    return out;
  }

  /** All movies changing on `day` with their ms offsets (cached, idx ascending). */
  dayChanges(day: number): DayChanges {
    const cached = this.#dayCache.get(day);
    if (cached) {
      this.#dayCache.delete(day);
      this.#dayCache.set(day, cached);
      return cached;
    }
    const f = this.#facts;
    const n = f.lifecycle.countBy(day);
    const release = f.attributes.releaseDays(n);
    const ids = f.ids(n);
    const addDays = f.lifecycle.addDays(n);
    const deleteDays = f.lifecycle.deleteDays(n);
    const idx: number[] = [];
    const offset: number[] = [];
    for (let i = 0; i < n; i++) {
      const added = addDays[i];
      const deleted = deleteDays[i];
      if (day < added || day > deleted) continue;
      if (day === added || day === deleted) {
        idx.push(i);
        offset.push(0);
        continue;
      }
      const p = changeProbability(release[i], day);
      const id = ids[i];
      if (p < 1 && unit4(f.seed, id, day, SALT.change) >= p) continue;
      idx.push(i);
      offset.push(Math.floor(unit4(f.seed, id, day, SALT.changeAt) * DAY_MS));
    }
    const result = { idx: Int32Array.from(idx), offset: Int32Array.from(offset) };
    this.#dayCache.set(day, result);
    if (this.#dayCache.size > DAY_CACHE_SIZE) {
      const oldest = this.#dayCache.keys().next().value as number;
      this.#dayCache.delete(oldest);
    }
    return result;
  }

  /** Per-movie version / last-change day accumulated over whole days baseline..`through`. */
  #cumulativeThrough(through: number): Cumulative {
    const n = this.#facts.lifecycle.countBy(through);
    let cum = this.#cumulative;
    if (!cum || cum.through > through) {
      cum = {
        through: this.#facts.baselineDay - 1,
        version: new Int32Array(n),
        lastDay: new Int32Array(n).fill(NONE),
      };
      this.#cumulative = cum;
    }
    if (cum.version.length < n) {
      const version = new Int32Array(n);
      const lastDay = new Int32Array(n).fill(NONE);
      version.set(cum.version);
      lastDay.set(cum.lastDay);
      cum.version = version;
      cum.lastDay = lastDay;
    }
    for (let d = cum.through + 1; d <= through; d++) {
      const ch = this.dayChanges(d);
      for (let j = 0; j < ch.idx.length; j++) {
        const i = ch.idx[j];
        cum.version[i]++;
        cum.lastDay[i] = d;
      }
      cum.through = d;
    }
    return cum;
  }

  /**
   * Every movie's state as of `atMs` (the same versions and days `stateAt` gives one by one).
   * The arrays are fresh: callers may keep them.
   */
  snapshot(atMs: number): StateSnapshot {
    const B = this.#facts.baselineDay;
    const today = dayOf(atMs);
    const n = this.#facts.lifecycle.countBy(today);
    const version = new Int32Array(n);
    const day = new Int32Array(n);
    if (today < B) {
      day.fill(today);
      return { atMs, count: n, version, day };
    }
    const cum = this.#cumulativeThrough(today - 1);
    const known = Math.min(n, cum.version.length);
    version.set(cum.version.subarray(0, known));
    for (let i = 0; i < n; i++) {
      const last = i < known ? cum.lastDay[i] : NONE;
      day[i] = last === NONE ? B : last;
    }
    const ch = this.dayChanges(today);
    const within = atMs - today * DAY_MS;
    for (let j = 0; j < ch.idx.length; j++) {
      if (ch.offset[j] > within) continue;
      const i = ch.idx[j];
      version[i]++;
      day[i] = today;
    }
    return { atMs, count: n, version, day };
  }

  /**
   * Indexes (in id order) of movies with a change instant in [startMs, endMs) that is not
   * after `nowMs`. Only days from the baseline on are simulated.
   */
  changedIndexes(startMs: number, endMs: number, nowMs: number): Int32Array {
    const end = Math.min(endMs, nowMs + 1);
    const key = `${startMs}|${end}`;
    if (this.#changesCache?.key === key) return this.#changesCache.idx;
    if (end <= startMs) return new Int32Array(0);
    const lc = this.#facts.lifecycle;
    const n = lc.countBy(dayOf(end - 1));
    const firstDay = Math.max(this.#facts.baselineDay, dayOf(startMs));
    const lastDay = dayOf(end - 1);
    const mark = new Uint8Array(n);
    let count = 0;
    for (let d = firstDay; d <= lastDay; d++) {
      const ch = this.dayChanges(d);
      const base = d * DAY_MS;
      for (let j = 0; j < ch.idx.length; j++) {
        const instant = base + ch.offset[j];
        if (instant < startMs || instant >= end) continue;
        const i = ch.idx[j];
        if (mark[i] === 0) {
          mark[i] = 1;
          count++;
        }
      }
    }
    const idx = new Int32Array(count);
    let k = 0;
    let ghosts = false;
    for (let i = 0; i < n && k < count; i++) {
      if (mark[i] === 1) {
        idx[k++] = i;
        if (lc.kindOf(i) === "ghost") ghosts = true;
      }
    }
    // Indexes are in id order except the ghosts, whose ids lie among the anchor day's.
    if (ghosts) {
      const ids = this.#facts.ids(n);
      idx.sort((a, b) => ids[a] - ids[b]);
    }
    this.#changesCache = { key, idx };
    return idx;
  }

  /** A `/movie/changes` page (100 ids per page). */
  changesPage(startMs: number, endMs: number, nowMs: number, page: number): ChangesPage {
    const f = this.#facts;
    const idx = this.changedIndexes(startMs, endMs, nowMs);
    const start = (page - 1) * CHANGES_PAGE_SIZE;
    const results: { id: number; adult: boolean }[] = [];
    for (let j = start; j < Math.min(idx.length, start + CHANGES_PAGE_SIZE); j++) {
      results.push({ id: f.idOf(idx[j]), adult: f.attributes.adult(idx[j]) });
    }
    return {
      results,
      page,
      total_pages: Math.max(1, Math.ceil(idx.length / CHANGES_PAGE_SIZE)),
      total_results: idx.length,
    };
  }
}
