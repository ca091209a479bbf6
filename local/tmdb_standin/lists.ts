/**
 * Movie lists as TMDB serves them: `/movie/popular`, `/movie/now_playing`, `/movie/upcoming`,
 * `/trending/movie/{day|week}`. Each is ordered once per simulated hour (like TMDB's cached
 * lists) from every movie's popularity at the start of that hour; at most 500 pages × 20 items
 * are ordered (a bounded heap over the catalog), pages are cut from that order; movies that
 * do not exist at that hour and adult movies (TMDB's default `include_adult=false`) are left
 * out.
 *
 * @module
 */

import type { MovieAttributes } from "./attributes.ts";
import type { ListItem } from "./movies.ts";
import type { Board } from "./popularity.ts";
import { unit4 } from "./random.ts";
import { SALT } from "./salts.ts";
import { dayOf, HOUR_MS, isoDay, NO_DATE } from "./time.ts";

/** Items per list page. */
export const LIST_PAGE_SIZE = 20;
/** TMDB serves at most 500 pages. */
export const MAX_PAGE = 500;
/** Items reachable through list pages (500 × 20). */
export const MAX_LIST_ITEMS = MAX_PAGE * LIST_PAGE_SIZE;
/** List orders kept (one per list and simulated hour). */
const LIST_CACHE_SIZE = 16;

/** A list page as TMDB serves it. */
export interface ListPage {
  dates?: { maximum: string; minimum: string };
  page: number;
  results: ListItem[];
  total_pages: number;
  total_results: number;
}

/** Which trending window. */
export type TrendingWindow = "day" | "week";

/** What the lists read. */
export interface ListFacts {
  /** Catalog seed (uint32). */
  readonly seed: number;
  /** Release days and adult flags. */
  readonly attributes: MovieAttributes;
  /** Every movie's popularity at `atMs` (only movies that exist then are listed). */
  board(atMs: number): Board;
  /** A test of whether movie indexes 0 .. count-1 exist at `atMs`. */
  existing(atMs: number, count: number): (idx: number) => boolean;
  /** TMDB ids of movie indexes 0 .. n-1 (ties are broken by id). */
  ids(n: number): Uint32Array;
  /** The list item of movie index `idx` as of `atMs`. */
  listItem(idx: number, atMs: number): ListItem;
}

interface ListOrder {
  order: Int32Array;
  total: number;
}

/** Lists are computed at the start of the simulated hour containing `atMs`. */
export function listInstant(atMs: number): number {
  return Math.floor(atMs / HOUR_MS) * HOUR_MS;
}

function withMediaType(item: ListItem): ListItem {
  const { adult, backdrop_path, genre_ids, id, ...rest } = item;
  return { adult, backdrop_path, genre_ids, id, media_type: "movie", ...rest };
}

/**
 * Indexes of the `k` best movies by `score` (desc; ties by id asc) among those `include`
 * accepts, via a bounded min-heap: O(n log k) worst case, O(n) typical.
 */
export function topK(
  n: number,
  score: Float64Array,
  include: (i: number) => boolean,
  k: number,
  ids: Uint32Array,
): Int32Array {
  const heap = new Int32Array(k);
  let size = 0;
  // worse(a, b): a ranks below b.
  const worse = (a: number, b: number) =>
    score[a] < score[b] || (score[a] === score[b] && ids[a] > ids[b]);
  const siftUp = (pos: number) => {
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!worse(heap[pos], heap[parent])) break;
      const t = heap[pos];
      heap[pos] = heap[parent];
      heap[parent] = t;
      pos = parent;
    }
  };
  const siftDown = (pos: number) => {
    for (;;) {
      const l = pos * 2 + 1;
      const r = l + 1;
      let m = pos;
      if (l < size && worse(heap[l], heap[m])) m = l;
      if (r < size && worse(heap[r], heap[m])) m = r;
      if (m === pos) return;
      const t = heap[pos];
      heap[pos] = heap[m];
      heap[m] = t;
      pos = m;
    }
  };
  for (let i = 0; i < n; i++) {
    if (!include(i)) continue;
    if (size < k) {
      heap[size] = i;
      siftUp(size);
      size++;
    } else if (size > 0 && worse(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  const out = Array.from(heap.subarray(0, size));
  out.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
  return Int32Array.from(out);
}

/** The lists of one catalog. */
export class Lists {
  readonly #facts: ListFacts;
  readonly #cache = new Map<string, ListOrder>();

  /** The lists over `facts`. */
  constructor(facts: ListFacts) {
    this.#facts = facts;
  }

  #order(key: string, build: () => ListOrder): ListOrder {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const order = build();
    this.#cache.set(key, order);
    if (this.#cache.size > LIST_CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value as string;
      this.#cache.delete(oldest);
    }
    return order;
  }

  #page(order: ListOrder, page: number, at: number, trending = false): ListPage {
    const start = (page - 1) * LIST_PAGE_SIZE;
    const results: ListItem[] = [];
    for (let j = start; j < Math.min(order.order.length, start + LIST_PAGE_SIZE); j++) {
      const item = this.#facts.listItem(order.order[j], at);
      results.push(trending ? withMediaType(item) : item);
    }
    return {
      page,
      results,
      total_pages: Math.max(1, Math.ceil(order.total / LIST_PAGE_SIZE)),
      total_results: order.total,
    };
  }

  /** Orders the movies existing at `at` that `accept` takes, by `score` (default popularity). */
  #rank(
    at: number,
    accept: (i: number) => boolean,
    score?: (pop: Float64Array, count: number) => Float64Array,
  ): ListOrder {
    const f = this.#facts;
    const { popularity, count } = f.board(at);
    const adult = f.attributes.adultFlags(count);
    const exists = f.existing(at, count);
    const include = (i: number) => adult[i] === 0 && exists(i) && accept(i);
    let total = 0;
    for (let i = 0; i < count; i++) if (include(i)) total++;
    const ranked = score ? score(popularity, count) : popularity;
    return { order: topK(count, ranked, include, MAX_LIST_ITEMS, f.ids(count)), total };
  }

  /** `/movie/popular` page (popularity desc; adult movies excluded). */
  popular(atMs: number, page: number): ListPage {
    const at = listInstant(atMs);
    const order = this.#order(`popular:${at}`, () => this.#rank(at, () => true));
    return this.#page(order, page, at);
  }

  #windowList(kind: string, atMs: number, page: number, from: number, to: number): ListPage {
    const at = listInstant(atMs);
    const today = dayOf(at);
    const min = today + from;
    const max = today + to;
    const order = this.#order(`${kind}:${at}`, () => {
      const release = this.#facts.attributes.releaseDays(this.#facts.board(at).count);
      return this.#rank(at, (i) => {
        const r = release[i];
        return r !== NO_DATE && r >= min && r <= max;
      });
    });
    const body = this.#page(order, page, at);
    return { dates: { maximum: isoDay(max), minimum: isoDay(min) }, ...body };
  }

  /** `/movie/now_playing`: released in the last ~6 weeks (today−41 … today+3). */
  nowPlaying(atMs: number, page: number): ListPage {
    return this.#windowList("now_playing", atMs, page, -41, 3);
  }

  /** `/movie/upcoming`: releasing today+4 … today+25. */
  upcoming(atMs: number, page: number): ListPage {
    return this.#windowList("upcoming", atMs, page, 4, 25);
  }

  /**
   * `/trending/movie/{day|week}`: popularity times a per-(movie, day|week) factor and a
   * recency boost, so the order differs from popular and drifts each simulated day / week.
   */
  trending(window: TrendingWindow, atMs: number, page: number): ListPage {
    const at = listInstant(atMs);
    const today = dayOf(at);
    const f = this.#facts;
    const order = this.#order(`trending-${window}:${at}`, () => {
      const period = window === "day" ? today : Math.floor((today + 3) / 7);
      const salt = window === "day" ? SALT.trendDay : SALT.trendWeek;
      const reach = window === "day" ? 45 : 90;
      const ranked = this.#rank(at, () => true, (pop, count) => {
        const ids = f.ids(count);
        const release = f.attributes.releaseDays(count);
        const score = new Float64Array(count);
        for (let i = 0; i < count; i++) {
          const u = unit4(f.seed, ids[i], period, salt);
          let x = window === "day" ? 0.05 + 4 * u ** 3 : 0.2 + 2.5 * u * u;
          const r = release[i];
          if (r !== NO_DATE && Math.abs(today - r) <= reach) x *= window === "day" ? 3 : 2;
          score[i] = pop[i] * x;
        }
        return score;
      });
      return { order: ranked.order, total: Math.min(ranked.total, MAX_LIST_ITEMS) };
    });
    return this.#page(order, page, at, true);
  }
}
