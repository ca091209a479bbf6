/**
 * The stand-in's deterministic synthetic TMDB movie catalog: one object that puts the parts
 * together — ids and their sparsity (`ids.ts`), additions and deletions day by day
 * (`lifecycle.ts`), per-movie facts (`attributes.ts`), popularity (`popularity.ts`), movie
 * payloads (`movies.ts`), the change feed (`changes.ts`) and the lists (`lists.ts`).
 *
 * Nothing is generated up front: a movie is generated from `hash(seed, id, …)` when it is
 * asked for, and the typed arrays the whole-catalog questions need (lists, change feed) are
 * filled the first time one is asked. The same seed, anchor day and simulated instant give
 * byte-identical JSON.
 *
 * Time model: release dates are laid out relative to the catalog's `anchor` day, on which the
 * catalog holds exactly `size` movies. Movies are added and deleted day by day (at 00:00 UTC),
 * and each has deterministic change instants (at most one per UTC day; its addition and
 * deletion are ones); all of it is simulated from `baselineDay` (anchor − 30) on. The state
 * served at instant T is a function of `version` (number of change instants in [baseline, T])
 * and the day of the last of them, so a movie's details differ only across a listed change.
 *
 * @module
 */

import { MovieAttributes } from "./attributes.ts";
import {
  BASELINE_DAYS,
  ChangeModel,
  CHANGES_PAGE_SIZE,
  type ChangesPage,
  type MovieState,
} from "./changes.ts";
import { configuration, genreList } from "./configuration.ts";
import { IdLattice } from "./ids.ts";
import { Lifecycle, type LifecycleOptions } from "./lifecycle.ts";
import {
  LIST_PAGE_SIZE,
  listInstant,
  type ListPage,
  Lists,
  MAX_LIST_ITEMS,
  MAX_PAGE,
  topK,
  type TrendingWindow,
} from "./lists.ts";
import {
  type CastCredit,
  type CrewCredit,
  type ExportFields,
  type IdName,
  type ListItem,
  type MovieDetails,
  MovieGenerator,
  type Person,
  SUPPORTED_APPEND_PARTS,
} from "./movies.ts";
import { type Board, popularityAt, PopularityBoard } from "./popularity.ts";
import { DAY_MS, dayOf, HOUR_MS, isoDay, NO_DATE, toMs } from "./time.ts";

export {
  BASELINE_DAYS,
  CHANGES_PAGE_SIZE,
  DAY_MS,
  dayOf,
  HOUR_MS,
  isoDay,
  LIST_PAGE_SIZE,
  MAX_LIST_ITEMS,
  MAX_PAGE,
  NO_DATE,
  SUPPORTED_APPEND_PARTS,
  topK,
};
export type {
  CastCredit,
  ChangesPage,
  CrewCredit,
  IdName,
  ListItem,
  ListPage,
  MovieDetails,
  MovieState,
  Person,
  TrendingWindow,
};

/** Default catalog size. */
export const DEFAULT_SIZE = 5000;
/** Default seed. */
export const DEFAULT_SEED = 1;

/** Options for {@link createCatalog}. */
export interface CatalogOptions extends LifecycleOptions {
  /** Number of movies on the anchor day (default 5000, 1..5,000,000). */
  size?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /**
   * The instant release dates are laid out around (its UTC day is the "anchor day"):
   * ~2 % after it, ~5 % in the 30 days before, ~10 % in the year before, the rest back to 1920.
   * Default: the current real time. Same seed + same anchor day → identical catalog.
   */
  anchor?: Date | string | number;
}

/** Creates a catalog; see {@link Catalog}. */
export function createCatalog(options: CatalogOptions = {}): Catalog {
  return new Catalog(options);
}

/** The synthetic catalog. Construct with {@link createCatalog}. */
export class Catalog {
  /** Number of movies on the anchor day. */
  readonly size: number;
  /** PRNG seed. */
  readonly seed: number;
  /** UTC day number release dates are laid out around. */
  readonly anchorDay: number;
  /** First simulated day of changes (anchorDay − 30). */
  readonly baselineDay: number;
  /** Number of people in the shared person pool. */
  readonly peopleCount: number;
  /** The id lattice (ids and sparsity). */
  readonly lattice: IdLattice;
  /** Additions and deletions day by day (movie indexes of the whole history). */
  readonly lifecycle: Lifecycle;
  /** Per-movie release day, adult flag, base popularity. */
  readonly attributes: MovieAttributes;
  readonly #movies: MovieGenerator;
  readonly #changes: ChangeModel;
  readonly #board: PopularityBoard;
  readonly #lists: Lists;

  /** Use {@link createCatalog}. */
  constructor(options: CatalogOptions = {}) {
    const lattice = new IdLattice(options.size ?? DEFAULT_SIZE, options.seed ?? DEFAULT_SEED);
    this.lattice = lattice;
    this.size = lattice.size;
    this.seed = lattice.seed;
    this.anchorDay = dayOf(toMs(options.anchor ?? Date.now(), "catalog anchor"));
    this.baselineDay = this.anchorDay - BASELINE_DAYS;
    this.peopleCount = Math.max(1000, this.size * 4);
    const lifecycle = new Lifecycle(lattice, this.anchorDay, this.baselineDay, options);
    this.lifecycle = lifecycle;
    const idOf = (idx: number) => lifecycle.idOf(idx);
    const ids = (n: number) => lifecycle.ids(n);
    this.attributes = new MovieAttributes(this.seed, this.anchorDay, idOf);
    this.#movies = new MovieGenerator({
      seed: this.seed,
      anchorDay: this.anchorDay,
      peopleCount: this.peopleCount,
      facts: {
        idOf,
        slotOf: (idx) => lifecycle.slotOf(idx),
        releaseDay: (idx) => this.attributes.releaseDay(idx),
        basePopularity: (idx) => this.attributes.basePopularity(idx),
        adult: (idx) => this.attributes.adult(idx),
      },
    });
    this.#changes = new ChangeModel({
      seed: this.seed,
      baselineDay: this.baselineDay,
      lifecycle,
      idOf,
      ids,
      attributes: this.attributes,
    });
    this.#board = new PopularityBoard({
      seed: this.seed,
      countAt: (atMs) => lifecycle.countBy(dayOf(atMs)),
      ids,
      attributes: this.attributes,
      snapshot: (atMs) => this.#changes.snapshot(atMs),
    });
    this.#lists = new Lists({
      seed: this.seed,
      attributes: this.attributes,
      board: (atMs) => this.#board.at(atMs),
      existing: (atMs, count) => {
        const day = dayOf(atMs);
        const added = lifecycle.addDays(count);
        const deleted = lifecycle.deleteDays(count);
        return (i) => added[i] <= day && day < deleted[i];
      },
      ids,
      listItem: (idx, atMs) => this.listItem(idx, atMs),
    });
  }

  /** Sorted, sparse TMDB ids of the anchor day's movies (built on first use). */
  get ids(): Uint32Array {
    return this.lattice.baseIds();
  }

  /** Release day per index (UTC day number) or {@link NO_DATE} (filled on first use). */
  get releaseDay(): Int32Array {
    return this.attributes.releaseDays(this.size);
  }

  /** Popularity before recency/version factors, per index (filled on first use). */
  get basePopularity(): Float32Array {
    return this.attributes.basePopularities(this.size);
  }

  /** 1 for adult movies (excluded from lists, like TMDB's default `include_adult=false`). */
  get adult(): Uint8Array {
    return this.attributes.adultFlags(this.size);
  }

  /**
   * Movie index of a TMDB id, or -1 for an id that never exists. The anchor day's movies are
   * 0 .. size-1 (`ids[i]`); movies deleted before the anchor day or added after it come after.
   */
  indexOf(id: number): number {
    return this.lifecycle.indexOf(id);
  }

  /** Whether the id exists at some instant of the simulated history. */
  has(id: number): boolean {
    return this.indexOf(id) >= 0;
  }

  /** Whether the id exists at `atMs` (added on or before that day, not yet deleted). */
  exists(id: number, atMs: number): boolean {
    const idx = this.indexOf(id);
    return idx >= 0 && this.lifecycle.existsOn(idx, dayOf(atMs));
  }

  /** Number of movies existing at `atMs`. */
  countAt(atMs: number): number {
    return this.lifecycle.countOn(dayOf(atMs));
  }

  /** TMDB id of movie index `idx`. */
  idOf(idx: number): number {
    return this.lifecycle.idOf(idx);
  }

  /** Ms offset within day `day` of the movie's change that day, or -1 if it has none. */
  changeOffset(idx: number, day: number): number {
    return this.#changes.changeOffset(idx, day);
  }

  /** The movie's state (version, last change) as of `atMs`. */
  stateAt(idx: number, atMs: number): MovieState {
    return this.#changes.stateAt(idx, atMs);
  }

  /** The movie's change instants (epoch ms) in [startMs, endMs), from the baseline on. */
  changeInstants(id: number, startMs: number, endMs: number): number[] {
    const idx = this.indexOf(id);
    return idx < 0 ? [] : this.#changes.changeInstants(idx, startMs, endMs);
  }

  /** Popularity of a movie at a given version and state day (rounded to 3 decimals). */
  popularityOf(idx: number, version: number, day: number): number {
    return popularityAt(
      this.seed,
      this.idOf(idx),
      this.attributes.basePopularity(idx),
      this.attributes.releaseDay(idx),
      version,
      day,
    );
  }

  /** Every movie's popularity at `atMs` (the last instant asked for is cached). */
  board(atMs: number): Board {
    return this.#board.at(atMs);
  }

  /** `original_title` and `video` of movie index `idx` (cheap: for the daily exports). */
  exportFields(idx: number): ExportFields {
    return this.#movies.exportFields(idx);
  }

  /** A person from the shared pool (same index → same id, name, …). */
  person(pidx: number): Person {
    return this.#movies.person(pidx);
  }

  /** A list item for movie index `idx` as of `atMs`. */
  listItem(idx: number, atMs: number): ListItem {
    return this.#movies.listItem(idx, this.stateAt(idx, atMs));
  }

  /**
   * `/movie/{id}` as of `atMs`, with the requested append parts (unknown ones ignored).
   * Returns null for an id that does not exist at `atMs` (never did, not yet added, deleted).
   */
  details(id: number, atMs: number, append: readonly string[] = []): MovieDetails | null {
    const idx = this.indexOf(id);
    if (idx < 0 || !this.lifecycle.existsOn(idx, dayOf(atMs))) return null;
    return this.#movies.details(idx, this.stateAt(idx, atMs), append);
  }

  /** Lists are computed at the start of the simulated hour containing `atMs`. */
  listInstant(atMs: number): number {
    return listInstant(atMs);
  }

  /** `/movie/popular` page (popularity desc; adult movies excluded). */
  popular(atMs: number, page: number): ListPage {
    return this.#lists.popular(atMs, page);
  }

  /** `/movie/now_playing`: released in the last ~6 weeks (today−41 … today+3). */
  nowPlaying(atMs: number, page: number): ListPage {
    return this.#lists.nowPlaying(atMs, page);
  }

  /** `/movie/upcoming`: releasing today+4 … today+25. */
  upcoming(atMs: number, page: number): ListPage {
    return this.#lists.upcoming(atMs, page);
  }

  /**
   * `/trending/movie/{day|week}`: popularity times a per-(movie, day|week) factor and a
   * recency boost, so the order differs from popular and drifts each simulated day / week.
   */
  trending(window: TrendingWindow, atMs: number, page: number): ListPage {
    return this.#lists.trending(window, atMs, page);
  }

  /**
   * Indexes (in id order) of movies with a change instant in [startMs, endMs) that is not
   * after `nowMs` (additions and deletions included). Only days from the baseline on are
   * simulated.
   */
  changedIndexes(startMs: number, endMs: number, nowMs: number): Int32Array {
    return this.#changes.changedIndexes(startMs, endMs, nowMs);
  }

  /** Ids changed in [startMs, endMs) (not after `nowMs`), ascending. */
  changedIds(startMs: number, endMs: number, nowMs: number): number[] {
    return Array.from(this.changedIndexes(startMs, endMs, nowMs), (i) => this.idOf(i));
  }

  /** A `/movie/changes` page (100 ids per page). */
  changes(startMs: number, endMs: number, nowMs: number, page: number): ChangesPage {
    return this.#changes.changesPage(startMs, endMs, nowMs, page);
  }

  /** `/configuration`. */
  configuration(): unknown {
    return configuration();
  }

  /** `/genre/movie/list`. */
  genreList(): { genres: IdName[] } {
    return genreList();
  }
}
