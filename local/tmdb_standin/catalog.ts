/**
 * Deterministic synthetic TMDB movie catalog for the stand-in server.
 *
 * Only a few typed arrays are precomputed (sorted sparse ids, release day, base popularity,
 * adult flag); everything else — titles, credits, videos, release dates — is generated lazily
 * per movie from `hash(seed, id, …)`, so a 1,000,000-movie catalog builds in well under a
 * second and any movie's JSON is identical for the same seed, anchor and simulated time.
 *
 * Time model: release dates are laid out relative to the catalog's `anchor` day. Each movie
 * has deterministic change instants (at most one per UTC day, drawn per (movie, day) with a
 * probability that depends on how close the day is to its release; always one on its release
 * day). Changes are simulated from `baselineDay` (anchor − 30 days) on. The state served at
 * instant T is a function of `version` (number of change instants in [baseline, T]) and the
 * day of the last of them, so a movie's details differ only across a listed change.
 */

import { hash4, Rng, unit4 } from "./random.ts";
import {
  AWKWARD_TITLES,
  CERTIFICATIONS,
  CHARACTER_ROLES,
  COUNTRY_NAMES,
  CREW_DEPARTMENTS,
  CREW_JOBS,
  GENRES,
  KEYWORDS,
  type Language,
  LANGUAGES,
  NAME_CULTURES,
  NATIVE_JOINER,
  NATIVE_TITLE_WORDS,
  OVERVIEW_SENTENCES,
  RELEASE_COUNTRIES,
  RELEASE_NOTES,
  TAGLINES,
  TITLE_ADJECTIVES,
  TITLE_NOUNS,
  VIDEO_TYPES,
} from "./words.ts";

/** Milliseconds per day. */
export const DAY_MS = 86_400_000;
/** Milliseconds per hour (lists are recomputed at most once per simulated hour). */
export const HOUR_MS = 3_600_000;
/** `releaseDay` value of a movie whose `release_date` is `""`. */
export const NO_DATE = -2147483648;
/** Changes are simulated from this many days before the anchor day. */
export const BASELINE_DAYS = 30;
/** Items per list page. */
export const LIST_PAGE_SIZE = 20;
/** Ids per `/movie/changes` page. */
export const CHANGES_PAGE_SIZE = 100;
/** TMDB serves at most 500 pages. */
export const MAX_PAGE = 500;
/** Items reachable through list pages (500 × 20). */
export const MAX_LIST_ITEMS = MAX_PAGE * LIST_PAGE_SIZE;
/** Default catalog size. */
export const DEFAULT_SIZE = 5000;
/** Default seed. */
export const DEFAULT_SEED = 1;

/** Salts separating the independent hash streams. */
const S = {
  id: 1,
  releaseKind: 2,
  release: 3,
  pop: 4,
  adult: 5,
  change: 6,
  changeAt: 7,
  wobble: 8,
  core: 9,
  credits: 10,
  videos: 11,
  dates: 12,
  keywords: 13,
  tagCount: 14,
  tagPick: 15,
  castAdd: 16,
  castAddGen: 17,
  trendDay: 18,
  trendWeek: 19,
  person: 20,
  votes: 21,
  external: 22,
  company: 23,
  collection: 24,
  images: 25,
  credit: 26,
} as const;

const DAY_1920 = Math.floor(Date.UTC(1920, 0, 1) / DAY_MS);
const PATH_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const VIDEO_KEY_ALPHABET = PATH_ALPHABET + "-_";
const NONE = -2147483648;

/** Options for {@link createCatalog}. */
export interface CatalogOptions {
  /** Number of movies (default 5000, 1..5,000,000). */
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

/** A movie's mutable state as of some instant. */
export interface MovieState {
  /** Number of change instants in [baseline, T]. */
  version: number;
  /** Epoch ms of the last change instant ≤ T, or the baseline start when there is none. */
  instant: number;
  /** UTC day number (days since 1970-01-01) the state is evaluated at. */
  day: number;
}

/** `{id, name}` pair (genres, keywords). */
export interface IdName {
  /** TMDB id. */
  id: number;
  /** Display name. */
  name: string;
}

/** A `/movie/{id}` response body (without appended parts). */
export interface MovieDetails {
  adult: boolean;
  backdrop_path: string | null;
  belongs_to_collection: {
    id: number;
    name: string;
    poster_path: string | null;
    backdrop_path: string | null;
  } | null;
  budget: number;
  genres: IdName[];
  homepage: string;
  id: number;
  imdb_id: string | null;
  origin_country: string[];
  original_language: string;
  original_title: string;
  overview: string;
  popularity: number;
  poster_path: string | null;
  production_companies: {
    id: number;
    logo_path: string | null;
    name: string;
    origin_country: string;
  }[];
  production_countries: { iso_3166_1: string; name: string }[];
  release_date: string;
  revenue: number;
  runtime: number | null;
  spoken_languages: { english_name: string; iso_639_1: string; name: string }[];
  status: string;
  tagline: string;
  title: string;
  video: boolean;
  vote_average: number;
  vote_count: number;
  [appended: string]: unknown;
}

/** One item of a movie list (`/movie/popular`, `/movie/now_playing`, trending). */
export interface ListItem {
  adult: boolean;
  backdrop_path: string | null;
  genre_ids: number[];
  id: number;
  media_type?: "movie";
  original_language: string;
  original_title: string;
  overview: string;
  popularity: number;
  poster_path: string | null;
  release_date: string;
  title: string;
  video: boolean;
  vote_average: number;
  vote_count: number;
}

/** A list page as TMDB serves it. */
export interface ListPage {
  dates?: { maximum: string; minimum: string };
  page: number;
  results: ListItem[];
  total_pages: number;
  total_results: number;
}

/** A `/movie/changes` page. */
export interface ChangesPage {
  results: { id: number; adult: boolean }[];
  page: number;
  total_pages: number;
  total_results: number;
}

/** Person fields shared by cast and crew entries. */
export interface Person {
  adult: boolean;
  gender: number;
  id: number;
  known_for_department: string;
  name: string;
  original_name: string;
  popularity: number;
  profile_path: string | null;
}

/** A `credits.cast[]` entry. */
export interface CastCredit extends Person {
  cast_id: number;
  character: string;
  credit_id: string;
  order: number;
}

/** A `credits.crew[]` entry. */
export interface CrewCredit extends Person {
  credit_id: string;
  department: string;
  job: string;
}

/** Which trending window. */
export type TrendingWindow = "day" | "week";

/** Append parts the stand-in knows; any other name is ignored like TMDB ignores it. */
export const SUPPORTED_APPEND_PARTS = [
  "credits",
  "videos",
  "release_dates",
  "external_ids",
  "keywords",
  "images",
  "alternative_titles",
] as const;

interface Company {
  id: number;
  logo_path: string | null;
  name: string;
  origin_country: string;
}

interface Core {
  id: number;
  adult: boolean;
  lang: Language;
  originalTitle: string;
  title: string;
  overview: string;
  genreIds: number[];
  backdrop: string | null;
  poster: string | null;
  video: boolean;
  imdbId: string | null;
  homepage: string;
  budget: number;
  revenue: number;
  runtime: number | null;
  runtimeBeforeRelease: boolean;
  collection: MovieDetails["belongs_to_collection"];
  companies: Company[];
  countries: string[];
  spoken: Language[];
  preStatus: string;
  noDateStatus: string;
  voteMean: number;
  voteBase: number;
  voteInc: number;
  noun: string;
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

interface ListOrder {
  order: Int32Array;
  total: number;
}

/** Formats a UTC day number as `YYYY-MM-DD`. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** UTC day number of an instant (epoch ms). */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function imagePath(rng: Rng): string {
  return "/" + rng.chars(PATH_ALPHABET, 27) + ".jpg";
}

function weightedPick<T extends { weight: number }>(items: readonly T[], u: number): T {
  let total = 0;
  for (const item of items) total += item.weight;
  let x = u * total;
  for (const item of items) {
    x -= item.weight;
    if (x < 0) return item;
  }
  return items[items.length - 1];
}

function toMs(anchor: Date | string | number): number {
  const ms = anchor instanceof Date ? anchor.getTime() : new Date(anchor).getTime();
  if (!Number.isFinite(ms)) throw new Error(`catalog anchor is not a valid date: ${anchor}`);
  return ms;
}

/** Creates a catalog; see {@link Catalog}. */
export function createCatalog(options: CatalogOptions = {}): Catalog {
  return new Catalog(options);
}

/** The synthetic catalog. Construct with {@link createCatalog}. */
export class Catalog {
  /** Number of movies. */
  readonly size: number;
  /** PRNG seed. */
  readonly seed: number;
  /** UTC day number release dates are laid out around. */
  readonly anchorDay: number;
  /** First simulated day of changes (anchorDay − 30). */
  readonly baselineDay: number;
  /** Sorted, sparse TMDB ids. */
  readonly ids: Uint32Array;
  /** Release day per index (UTC day number) or {@link NO_DATE}. */
  readonly releaseDay: Int32Array;
  /** Popularity before recency/version factors. */
  readonly basePopularity: Float32Array;
  /** 1 for adult movies (excluded from lists, like TMDB's default `include_adult=false`). */
  readonly adult: Uint8Array;
  /** Number of people in the shared person pool. */
  readonly peopleCount: number;

  readonly #actorCount: number;
  readonly #crewCount: number;
  readonly #dayCache = new Map<number, DayChanges>();
  #cumulative: Cumulative | null = null;
  #popCache: { at: number; pop: Float64Array } | null = null;
  readonly #listCache = new Map<string, ListOrder>();
  readonly #coreCache = new Map<number, Core>();
  #changesCache: { key: string; idx: Int32Array } | null = null;

  /** Use {@link createCatalog}. */
  constructor(options: CatalogOptions = {}) {
    const size = options.size ?? DEFAULT_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > 5_000_000) {
      throw new Error(`catalog size must be an integer in 1..5000000, got ${size}`);
    }
    const seed = options.seed ?? DEFAULT_SEED;
    if (!Number.isInteger(seed)) throw new Error(`catalog seed must be an integer, got ${seed}`);
    this.size = size;
    this.seed = seed >>> 0;
    this.anchorDay = dayOf(toMs(options.anchor ?? Date.now()));
    this.baselineDay = this.anchorDay - BASELINE_DAYS;
    this.peopleCount = Math.max(1000, size * 4);
    this.#actorCount = Math.floor(this.peopleCount / 10) * 7;
    this.#crewCount = Math.floor(this.peopleCount / 10) * 3;

    const sd = this.seed;
    const lo = 2;
    const span = Math.max(1_500_000, Math.ceil(size * 1.5));
    const width = (span - lo) / size;
    const slot = Math.max(1, Math.floor(width));
    const ids = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      ids[i] = lo + Math.floor(i * width) + Math.floor(unit4(sd, i, 0, S.id) * slot);
    }
    // Id 550 always exists (the id everyone tries first).
    let fight = Math.min(size - 1, Math.floor((550 - lo) / width));
    while (fight > 0 && lo + Math.floor(fight * width) > 550) fight--;
    while (fight < size - 1 && lo + Math.floor((fight + 1) * width) <= 550) fight++;
    ids[fight] = 550;
    this.ids = ids;

    const A = this.anchorDay;
    const releaseDay = new Int32Array(size);
    const basePop = new Float32Array(size);
    const adult = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const id = ids[i];
      const k = unit4(sd, id, 0, S.releaseKind);
      const u = unit4(sd, id, 1, S.release);
      let r: number;
      if (k < 0.03) r = NO_DATE;
      else {
        const v = (k - 0.03) / 0.97;
        if (v < 0.02) r = A + 1 + Math.floor(180 * u ** 1.5);
        else if (v < 0.07) r = A - Math.floor(30 * u);
        else if (v < 0.17) r = A - 30 - Math.floor(335 * u);
        else r = A - 365 - Math.floor((A - 365 - DAY_1920) * u * u);
      }
      releaseDay[i] = r;
      const a = 1 - unit4(sd, id, 2, S.pop);
      const b = unit4(sd, id, 3, S.pop);
      const z = Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
      basePop[i] = Math.exp(0.5 + 1.3 * z);
      adult[i] = unit4(sd, id, 0, S.adult) < 0.01 ? 1 : 0;
    }
    releaseDay[fight] = dayOf(Date.UTC(1999, 9, 15));
    basePop[fight] = 61.416;
    adult[fight] = 0;
    this.releaseDay = releaseDay;
    this.basePopularity = basePop;
    this.adult = adult;
  }

  /** Index of a TMDB id in {@link ids}, or -1. */
  indexOf(id: number): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Whether the catalog has this TMDB id. */
  has(id: number): boolean {
    return this.indexOf(id) >= 0;
  }

  // ---------------------------------------------------------------------------------------
  // Time: change instants and state
  // ---------------------------------------------------------------------------------------

  /** Probability that a movie with release day `r` changes on day `d` (release day: 1). */
  #changeProbability(r: number, d: number): number {
    if (r === NO_DATE) return 0.01;
    const age = d - r;
    if (age < 0) return age >= -60 ? 0.2 : 0.05;
    if (age === 0) return 1;
    if (age <= 30) return 0.15;
    if (age <= 365) return 0.02;
    return 0.002;
  }

  /** Ms offset within day `day` of the movie's change that day, or -1 if it has none. */
  changeOffset(idx: number, day: number): number {
    const p = this.#changeProbability(this.releaseDay[idx], day);
    const id = this.ids[idx];
    if (p < 1 && unit4(this.seed, id, day, S.change) >= p) return -1;
    return Math.floor(unit4(this.seed, id, day, S.changeAt) * DAY_MS);
  }

  /** The movie's state (version, last change) as of `atMs`. */
  stateAt(idx: number, atMs: number): MovieState {
    const today = dayOf(atMs);
    let version = 0;
    let last = -1;
    for (let d = this.baselineDay; d <= today; d++) {
      const off = this.changeOffset(idx, d);
      if (off < 0) continue;
      const instant = d * DAY_MS + off;
      if (instant > atMs) continue;
      version++;
      last = instant;
    }
    if (last < 0) {
      const day = Math.min(this.baselineDay, today);
      return { version: 0, instant: Math.min(this.baselineDay * DAY_MS, atMs), day };
    }
    return { version, instant: last, day: dayOf(last) };
  }

  /** The movie's change instants (epoch ms) in [startMs, endMs), from the baseline on. */
  changeInstants(id: number, startMs: number, endMs: number): number[] {
    const idx = this.indexOf(id);
    if (idx < 0) return [];
    const out: number[] = [];
    const from = Math.max(this.baselineDay, dayOf(startMs));
    for (let d = from; d * DAY_MS < endMs; d++) {
      const off = this.changeOffset(idx, d);
      if (off < 0) continue;
      const instant = d * DAY_MS + off;
      if (instant >= startMs && instant < endMs) out.push(instant);
    }
    return out;
  }

  /** All movies changing on `day` with their ms offsets (cached, idx ascending). */
  #dayChanges(day: number): DayChanges {
    const cached = this.#dayCache.get(day);
    if (cached) {
      this.#dayCache.delete(day);
      this.#dayCache.set(day, cached);
      return cached;
    }
    const idx: number[] = [];
    const offset: number[] = [];
    for (let i = 0; i < this.size; i++) {
      const off = this.changeOffset(i, day);
      if (off >= 0) {
        idx.push(i);
        offset.push(off);
      }
    }
    const result = { idx: Int32Array.from(idx), offset: Int32Array.from(offset) };
    this.#dayCache.set(day, result);
    if (this.#dayCache.size > 400) {
      const oldest = this.#dayCache.keys().next().value as number;
      this.#dayCache.delete(oldest);
    }
    return result;
  }

  /** Per-movie version/last-change-day accumulated over whole days baseline..`through`. */
  #cumulativeThrough(through: number): Cumulative {
    let cum = this.#cumulative;
    if (!cum || cum.through > through) {
      cum = {
        through: this.baselineDay - 1,
        version: new Int32Array(this.size),
        lastDay: new Int32Array(this.size).fill(NONE),
      };
      this.#cumulative = cum;
    }
    for (let d = cum.through + 1; d <= through; d++) {
      const ch = this.#dayChanges(d);
      for (let j = 0; j < ch.idx.length; j++) {
        const i = ch.idx[j];
        cum.version[i]++;
        cum.lastDay[i] = d;
      }
      cum.through = d;
    }
    return cum;
  }

  /** Popularity of every movie as of `atMs` (same values details/list items show then). */
  #popularityArray(atMs: number): Float64Array {
    if (this.#popCache?.at === atMs) return this.#popCache.pop;
    const today = dayOf(atMs);
    const B = this.baselineDay;
    const pop = new Float64Array(this.size);
    if (today < B) {
      for (let i = 0; i < this.size; i++) pop[i] = this.popularityOf(i, 0, today);
    } else {
      const cum = this.#cumulativeThrough(today - 1);
      for (let i = 0; i < this.size; i++) {
        const last = cum.lastDay[i];
        pop[i] = this.popularityOf(i, cum.version[i], last === NONE ? B : last);
      }
      const ch = this.#dayChanges(today);
      const within = atMs - today * DAY_MS;
      for (let j = 0; j < ch.idx.length; j++) {
        if (ch.offset[j] > within) continue;
        const i = ch.idx[j];
        pop[i] = this.popularityOf(i, cum.version[i] + 1, today);
      }
    }
    this.#popCache = { at: atMs, pop };
    return pop;
  }

  // ---------------------------------------------------------------------------------------
  // Mutable fields
  // ---------------------------------------------------------------------------------------

  /** Popularity of a movie at a given version and state day (rounded to 3 decimals). */
  popularityOf(idx: number, version: number, day: number): number {
    const r = this.releaseDay[idx];
    let recency = 1;
    if (r === NO_DATE) recency = 0.6;
    else if (day < r) recency = 1 + 3 * Math.exp(-(r - day) / 30);
    else if (day - r <= 90) recency = 1 + 6 * Math.exp(-(day - r) / 20);
    const wobble = 0.8 + 0.4 * unit4(this.seed, this.ids[idx], version, S.wobble);
    return round3(this.basePopularity[idx] * recency * wobble);
  }

  #countDraws(id: number, version: number, salt: number, p: number): number {
    let n = 0;
    for (let j = 1; j <= version; j++) if (unit4(this.seed, id, j, salt) < p) n++;
    return n;
  }

  // ---------------------------------------------------------------------------------------
  // Static per-movie data
  // ---------------------------------------------------------------------------------------

  #core(idx: number): Core {
    const cached = this.#coreCache.get(idx);
    if (cached) return cached;
    const core = this.#buildCore(idx);
    this.#coreCache.set(idx, core);
    if (this.#coreCache.size > 20_000) {
      const oldest = this.#coreCache.keys().next().value as number;
      this.#coreCache.delete(oldest);
    }
    return core;
  }

  #englishTitle(rng: Rng): string {
    const r = rng.next();
    const adj = rng.pick(TITLE_ADJECTIVES);
    const noun = rng.pick(TITLE_NOUNS);
    const noun2 = rng.pick(TITLE_NOUNS);
    if (r < 0.015) return rng.pick(AWKWARD_TITLES);
    if (r < 0.35) return `The ${adj} ${noun}`;
    if (r < 0.6) return `${adj} ${noun}`;
    if (r < 0.72) return noun;
    if (r < 0.85) return `${adj} ${noun}: The ${noun2}`;
    if (r < 0.93) return `${noun} ${rng.range(2, 5)}`;
    return `${noun} of the ${adj} ${noun2}`;
  }

  #buildCore(idx: number): Core {
    const sd = this.seed;
    const id = this.ids[idx];
    const rng = new Rng(hash4(sd, id, 0, S.core));
    const lang = weightedPick(LANGUAGES, rng.next());
    const englishTitle = this.#englishTitle(rng);
    let originalTitle = englishTitle;
    let title = englishTitle;
    if (lang.iso !== "en") {
      const words = NATIVE_TITLE_WORDS[lang.iso];
      const n = rng.range(1, 3);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(rng.pick(words));
      originalTitle = parts.join(NATIVE_JOINER[lang.iso] ?? " ");
      if (rng.chance(0.3)) title = originalTitle;
    }
    const noun = rng.pick(TITLE_NOUNS);
    const role = rng.pick(CHARACTER_ROLES).toLowerCase();
    let overview = "";
    if (!rng.chance(0.04)) {
      const n = rng.range(1, 3);
      const first = rng.int(OVERVIEW_SENTENCES.length);
      const sentences: string[] = [];
      for (let i = 0; i < n; i++) {
        const template = OVERVIEW_SENTENCES[(first + i * 3) % OVERVIEW_SENTENCES.length];
        const place = rng.pick(TITLE_NOUNS).toLowerCase();
        sentences.push(template.replace("{t}", title).replace("{n}", place).replace("{p}", role));
      }
      overview = sentences.join(" ");
    }
    const genreIds: number[] = [];
    if (!rng.chance(0.03)) {
      const n = rng.range(1, 3);
      for (let i = 0; i < n; i++) {
        const g = rng.pick(GENRES).id;
        if (!genreIds.includes(g)) genreIds.push(g);
      }
    }
    const poster = rng.chance(0.06) ? null : imagePath(rng);
    const backdrop = rng.chance(0.15) ? null : imagePath(rng);
    const video = rng.chance(0.01);
    const imdbId = rng.chance(0.06) ? null : `tt${String(id * 6 + 17).padStart(7, "0")}`;
    const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const homepage = rng.chance(0.6)
      ? ""
      : `https://www.example-films.com/${slug.length > 0 ? slug : `movie-${id}`}`;
    const budget = rng.chance(0.55) ? 0 : rng.range(1, 250) * 1_000_000 + rng.int(10) * 100_000;
    const revenue = rng.chance(0.5)
      ? 0
      : Math.floor((budget > 0 ? budget : 5_000_000) * (0.2 + 4 * rng.next()));
    const rt = rng.next();
    const runtime = rt < 0.05
      ? 0
      : rt < 0.06
      ? null
      : Math.max(3, Math.round(105 + 22 * rng.normal()));
    const runtimeBeforeRelease = rng.chance(0.5);

    let collection: Core["collection"] = null;
    const group = Math.floor(idx / 4);
    if (unit4(sd, group, 0, S.collection) < 0.08 && rng.chance(0.7)) {
      const g = new Rng(hash4(sd, group, 1, S.collection));
      collection = {
        id: 8000 + group * 3 + g.int(3),
        name: `The ${g.pick(TITLE_ADJECTIVES)} ${g.pick(TITLE_NOUNS)} Collection`,
        poster_path: g.chance(0.1) ? null : imagePath(g),
        backdrop_path: g.chance(0.2) ? null : imagePath(g),
      };
    }

    const companies: Company[] = [];
    if (!rng.chance(0.1)) {
      const n = rng.range(1, 4);
      for (let i = 0; i < n; i++) {
        const c = this.#company(Math.floor(rng.next() ** 2 * 5000));
        if (!companies.some((x) => x.id === c.id)) companies.push(c);
      }
    }
    const countries = [lang.country];
    if (lang.country !== "US" && rng.chance(0.2)) countries.push("US");
    const spoken = [lang];
    if (lang.iso !== "en" && rng.chance(0.25)) spoken.push(LANGUAGES[0]);

    const preStatus = rng.pick(["Post Production", "Post Production", "In Production", "Planned"]);
    const noDateStatus = rng.pick(["Rumored", "Rumored", "Planned", "In Production", "Canceled"]);
    const pop = this.basePopularity[idx];
    const voteMean = Math.min(9.6, Math.max(1, 6.3 + 1.1 * rng.normal()));
    const voteBase = Math.floor(pop * (3 + 40 * rng.next()));
    const voteInc = 1 + Math.floor((pop * rng.next()) / 3);

    const core: Core = {
      id,
      adult: this.adult[idx] === 1,
      lang,
      originalTitle,
      title,
      overview,
      genreIds,
      backdrop,
      poster,
      video,
      imdbId,
      homepage,
      budget,
      revenue,
      runtime,
      runtimeBeforeRelease,
      collection,
      companies,
      countries,
      spoken,
      preStatus,
      noDateStatus,
      voteMean,
      voteBase,
      voteInc,
      noun,
    };
    if (id === 550) {
      Object.assign(core, {
        lang: LANGUAGES[0],
        originalTitle: "Fight Club",
        title: "Fight Club",
        imdbId: "tt0137523",
        runtime: 139,
        budget: 63_000_000,
        revenue: 100_853_753,
        countries: ["US"],
        spoken: [LANGUAGES[0]],
      });
    }
    return core;
  }

  #company(ci: number): Company {
    const rng = new Rng(hash4(this.seed, ci, 0, S.company));
    const suffix = rng.pick(["Pictures", "Films", "Studios", "Entertainment", "Productions"]);
    return {
      id: 1 + ci * 7 + rng.int(7),
      logo_path: rng.chance(0.4) ? null : imagePath(rng).replace(".jpg", ".png"),
      name: `${rng.pick(TITLE_ADJECTIVES)} ${rng.pick(TITLE_NOUNS)} ${suffix}`,
      origin_country: rng.chance(0.1) ? "" : rng.pick(Object.keys(COUNTRY_NAMES)),
    };
  }

  /** A person from the shared pool (same index → same id, name, …). */
  person(pidx: number): Person {
    const h = hash4(this.seed, pidx, 0, S.person);
    const rng = new Rng(h);
    const actor = pidx % 10 < 7;
    const culture = weightedPick(NAME_CULTURES, rng.next());
    const given = rng.pick(culture.given);
    const family = rng.pick(culture.family);
    const initial = rng.chance(0.12) ? ` ${rng.chars("ABCDEFGHJKLMNPRSTW", 1)}.` : "";
    const name = culture.familyFirst
      ? `${family[0]} ${given[0]}`
      : `${given[0]}${initial} ${family[0]}`;
    const original = !culture.nativeScript
      ? name
      : culture.nativeCompact
      ? `${family[1]}${given[1]}`
      : `${given[1]} ${family[1]}`;
    const g = rng.next();
    const gender = g < 0.18 ? 0 : g < 0.53 ? 1 : g < 0.98 ? 2 : 3;
    const popularity = round3(Math.max(0.05, (80 / (1 + pidx / 40)) * (0.4 + rng.next())));
    const profile = rng.chance(0.15 + 0.6 * Math.min(1, pidx / this.peopleCount))
      ? null
      : imagePath(rng);
    return {
      adult: false,
      gender,
      id: pidx * 3 + 1 + (h % 3),
      known_for_department: actor ? "Acting" : rng.pick(CREW_DEPARTMENTS),
      name,
      original_name: original,
      popularity,
      profile_path: profile,
    };
  }

  #actor(rng: Rng): Person {
    const a = Math.floor(this.#actorCount * rng.next() ** 2.2);
    return this.person(Math.floor(a / 7) * 10 + (a % 7));
  }

  #crewPerson(rng: Rng): Person {
    const c = Math.floor(this.#crewCount * rng.next() ** 2);
    return this.person(Math.floor(c / 3) * 10 + 7 + (c % 3));
  }

  #creditId(id: number, kind: number, n: number): string {
    return hex8(hash4(this.seed, id, kind * 1_000_003 + n, S.credit)) + hex8(id) +
      hex8(kind * 0x1000000 + n);
  }

  #character(rng: Rng, gender: number): string {
    const r = rng.next();
    if (r < 0.08) return "";
    if (r < 0.12) return gender === 1 ? "Herself" : "Himself";
    const culture = NAME_CULTURES[0];
    const first = rng.pick(culture.given)[0];
    if (r < 0.18) return `${first} (voice)`;
    if (r < 0.4) return rng.pick(CHARACTER_ROLES);
    if (r < 0.7) return first;
    return `${first} ${rng.pick(culture.family)[0]}`;
  }

  #castMember(rng: Rng, id: number, order: number, person?: Person): CastCredit {
    const p = person ?? this.#actor(rng);
    return {
      ...p,
      cast_id: order * 2 + 1 + rng.int(2),
      character: this.#character(rng, p.gender),
      credit_id: this.#creditId(id, 0, order),
      order,
    };
  }

  #credits(idx: number, state: MovieState): { cast: CastCredit[]; crew: CrewCredit[] } {
    const id = this.ids[idx];
    const rng = new Rng(hash4(this.seed, id, 0, S.credits));
    const c = rng.next();
    const castCount = c < 0.04
      ? 0
      : c < 0.065
      ? rng.range(100, 250)
      : 2 + Math.floor(45 * rng.next() ** 2);
    const w = rng.next();
    const crewCount = w < 0.04
      ? 0
      : w < 0.06
      ? rng.range(100, 300)
      : 1 + Math.floor(50 * rng.next() ** 2);
    const duplicateActor = castCount >= 5 && rng.chance(0.01);

    const cast: CastCredit[] = [];
    const seen = new Set<number>();
    for (let order = 0; order < castCount; order++) {
      let member = this.#castMember(rng, id, order);
      for (let tries = 0; seen.has(member.id) && tries < 5; tries++) {
        member = this.#castMember(rng, id, order);
      }
      seen.add(member.id);
      cast.push(member);
    }
    if (duplicateActor) {
      // TMDB lists an actor twice when they play two roles (different credit_id/character).
      const p = cast[1];
      const person: Person = {
        adult: p.adult,
        gender: p.gender,
        id: p.id,
        known_for_department: p.known_for_department,
        name: p.name,
        original_name: p.original_name,
        popularity: p.popularity,
        profile_path: p.profile_path,
      };
      cast[castCount - 1] = this.#castMember(rng, id, castCount - 1, person);
    }
    // Cast additions brought by changes.
    const added = this.#countDraws(id, state.version, S.castAdd, 0.15);
    for (let j = 1; j <= added; j++) {
      const r = new Rng(hash4(this.seed, id, j, S.castAddGen));
      const order = cast.length;
      let member = this.#castMember(r, id, order);
      for (let tries = 0; seen.has(member.id) && tries < 5; tries++) {
        member = this.#castMember(r, id, order);
      }
      seen.add(member.id);
      cast.push(member);
    }

    const crew: CrewCredit[] = [];
    for (let n = 0; n < crewCount; n++) {
      let job: readonly [string, string];
      let person: Person;
      if (n === 0) {
        job = ["Directing", "Director"];
        person = this.#crewPerson(rng);
      } else if (n === 1 && rng.chance(0.3)) {
        job = ["Writing", "Writer"];
        person = this.person(this.#pidxOf(crew[0].id));
      } else {
        job = rng.pick(CREW_JOBS);
        person = this.#crewPerson(rng);
      }
      crew.push({
        ...person,
        credit_id: this.#creditId(id, 1, n),
        department: job[0],
        job: job[1],
      });
    }
    return { cast, crew };
  }

  /** Inverse of person id: pidx*3+1+(h%3) → pidx. */
  #pidxOf(personId: number): number {
    return Math.floor((personId - 1) / 3);
  }

  #videos(idx: number, core: Core, state: MovieState): unknown[] {
    const id = this.ids[idx];
    const rng = new Rng(hash4(this.seed, id, 0, S.videos));
    if (rng.chance(0.3)) return [];
    const n = rng.range(1, 8);
    const r = this.releaseDay[idx];
    const A = this.anchorDay;
    const out: { published: number; v: Record<string, unknown> }[] = [];
    for (let i = 0; i < n; i++) {
      const type = rng.pick(VIDEO_TYPES);
      const day = r !== NO_DATE && r > A - 4000 ? r - 150 + rng.int(200) : A - 4000 + rng.int(3900);
      const published = day * DAY_MS + rng.int(86_400) * 1000;
      const v = {
        iso_639_1: "en",
        iso_3166_1: "US",
        name: rng.chance(0.5) ? `Official ${type}` : `${core.title} | ${type} ${i + 1}`,
        key: rng.chars(VIDEO_KEY_ALPHABET, 11),
        site: "YouTube",
        size: rng.pick([360, 480, 720, 1080, 1080, 2160]),
        type,
        official: rng.chance(0.8),
        published_at: new Date(published).toISOString(),
        id: this.#creditId(id, 3, i),
      };
      if (published <= state.instant) out.push({ published, v });
    }
    out.sort((a, b) => b.published - a.published);
    return out.map((x) => x.v);
  }

  #releaseDates(idx: number, core: Core): unknown[] {
    const r = this.releaseDay[idx];
    if (r === NO_DATE) return [];
    const rng = new Rng(hash4(this.seed, this.ids[idx], 0, S.dates));
    const countries = [core.lang.country];
    if (core.lang.country !== "US") countries.push("US");
    const extra = rng.int(5);
    for (let i = 0; i < extra; i++) {
      const c = rng.pick(RELEASE_COUNTRIES);
      if (!countries.includes(c)) countries.push(c);
    }
    const stamp = (day: number) => `${isoDay(day)}T00:00:00.000Z`;
    return countries.map((country, ci) => {
      const certs = CERTIFICATIONS[country] ?? [""];
      const cert = rng.chance(0.2) ? "" : rng.pick(certs);
      const entries: Record<string, unknown>[] = [];
      const add = (day: number, type: number, note = "") =>
        entries.push({
          certification: cert,
          descriptors: [],
          iso_639_1: "",
          note,
          release_date: stamp(day),
          type,
        });
      if (ci === 0 && rng.chance(0.2)) add(r - rng.range(5, 60), 1, rng.pick(RELEASE_NOTES));
      if (rng.chance(0.1)) add(r - rng.range(0, 10), 2);
      add(ci === 0 ? r : r + rng.range(0, 60), 3);
      if (rng.chance(0.4)) add(r + rng.range(30, 120), 4, rng.chance(0.5) ? "" : "Netflix");
      if (rng.chance(0.3)) add(r + rng.range(60, 180), 5, rng.chance(0.5) ? "" : "Blu-ray");
      if (rng.chance(0.05)) add(r + rng.range(200, 900), 6);
      return { iso_3166_1: country, release_dates: entries };
    });
  }

  #externalIds(idx: number, core: Core): Record<string, string | null> {
    const id = this.ids[idx];
    const rng = new Rng(hash4(this.seed, id, 0, S.external));
    const handle = core.title.toLowerCase().replace(/[^a-z0-9]+/g, "") || `movie${id}`;
    return {
      imdb_id: core.imdbId,
      wikidata_id: rng.chance(0.7) ? `Q${id * 7 + 11}` : null,
      facebook_id: rng.chance(0.4) ? `${handle}movie` : null,
      instagram_id: rng.chance(0.3) ? `${handle}film` : null,
      twitter_id: rng.chance(0.25) ? `${handle}_movie` : null,
    };
  }

  #keywords(idx: number): IdName[] {
    const rng = new Rng(hash4(this.seed, this.ids[idx], 0, S.keywords));
    if (rng.chance(0.3)) return [];
    const n = rng.range(1, 12);
    const out: IdName[] = [];
    for (let i = 0; i < n; i++) {
      const k = rng.int(KEYWORDS.length);
      const kw = { id: 818 + k * 37, name: KEYWORDS[k] };
      if (!out.some((x) => x.id === kw.id)) out.push(kw);
    }
    return out;
  }

  #images(idx: number, core: Core): unknown {
    const rng = new Rng(hash4(this.seed, this.ids[idx], 0, S.images));
    const image = (path: string, w: number, h: number, lang: string | null) => ({
      aspect_ratio: round3(w / h),
      height: h,
      iso_639_1: lang,
      file_path: path,
      vote_average: round3(5 + 0.5 * rng.int(8)),
      vote_count: rng.int(20),
      width: w,
    });
    const backdrops = core.backdrop ? [image(core.backdrop, 3840, 2160, null)] : [];
    const posters = core.poster ? [image(core.poster, 2000, 3000, core.lang.iso)] : [];
    const more = rng.int(4);
    for (let i = 0; i < more; i++) {
      if (core.backdrop) backdrops.push(image(imagePath(rng), 1920, 1080, null));
      if (core.poster) posters.push(image(imagePath(rng), 1000, 1500, "en"));
    }
    return { backdrops, logos: [], posters };
  }

  // ---------------------------------------------------------------------------------------
  // Public renderers
  // ---------------------------------------------------------------------------------------

  #common(idx: number, state: MovieState) {
    const core = this.#core(idx);
    const r = this.releaseDay[idx];
    const released = r !== NO_DATE && r <= state.day;
    const voteCount = released ? core.voteBase + state.version * core.voteInc : 0;
    const voteAverage = voteCount === 0 ? 0 : round3(
      Math.min(
        10,
        Math.max(
          0,
          core.voteMean + (unit4(this.seed, core.id, state.version, S.votes) - 0.5) * 0.4,
        ),
      ),
    );
    return {
      core,
      released,
      popularity: this.popularityOf(idx, state.version, state.day),
      voteCount,
      voteAverage,
      releaseDate: r === NO_DATE ? "" : isoDay(r),
    };
  }

  /** A list item for movie index `idx` as of `atMs`. */
  listItem(idx: number, atMs: number): ListItem {
    const { core, popularity, voteCount, voteAverage, releaseDate } = this.#common(
      idx,
      this.stateAt(idx, atMs),
    );
    return {
      adult: core.adult,
      backdrop_path: core.backdrop,
      genre_ids: core.genreIds.slice(),
      id: core.id,
      original_language: core.lang.iso,
      original_title: core.originalTitle,
      overview: core.overview,
      popularity,
      poster_path: core.poster,
      release_date: releaseDate,
      title: core.title,
      video: core.video,
      vote_average: voteAverage,
      vote_count: voteCount,
    };
  }

  /**
   * `/movie/{id}` as of `atMs`, with the requested append parts (unknown ones ignored).
   * Returns null for an id the catalog does not have.
   */
  details(id: number, atMs: number, append: readonly string[] = []): MovieDetails | null {
    const idx = this.indexOf(id);
    if (idx < 0) return null;
    const state = this.stateAt(idx, atMs);
    const { core, released, popularity, voteCount, voteAverage, releaseDate } = this.#common(
      idx,
      state,
    );
    const r = this.releaseDay[idx];
    const status = r === NO_DATE ? core.noDateStatus : released ? "Released" : core.preStatus;
    const tagVersion = this.#countDraws(id, state.version, S.tagCount, 0.12);
    const tagRng = new Rng(hash4(this.seed, id, tagVersion, S.tagPick));
    const tagline = tagRng.chance(0.25)
      ? ""
      : tagRng.pick(TAGLINES).replace("{n}", core.noun.toLowerCase());
    const body: MovieDetails = {
      adult: core.adult,
      backdrop_path: core.backdrop,
      belongs_to_collection: core.collection ? { ...core.collection } : null,
      budget: core.budget,
      genres: core.genreIds.map((g) => ({ id: g, name: GENRES.find((x) => x.id === g)!.name })),
      homepage: core.homepage,
      id: core.id,
      imdb_id: core.imdbId,
      origin_country: [core.lang.country],
      original_language: core.lang.iso,
      original_title: core.originalTitle,
      overview: core.overview,
      popularity,
      poster_path: core.poster,
      production_companies: core.companies.map((c) => ({ ...c })),
      production_countries: core.countries.map((c) => ({
        iso_3166_1: c,
        name: COUNTRY_NAMES[c] ?? c,
      })),
      release_date: releaseDate,
      revenue: released ? core.revenue : 0,
      runtime: released || core.runtimeBeforeRelease ? core.runtime : 0,
      spoken_languages: core.spoken.map((l) => ({
        english_name: l.english,
        iso_639_1: l.iso,
        name: l.native,
      })),
      status,
      tagline,
      title: core.title,
      video: core.video,
      vote_average: voteAverage,
      vote_count: voteCount,
    };
    for (const part of new Set(append)) {
      switch (part) {
        case "credits":
          body.credits = this.#credits(idx, state);
          break;
        case "videos":
          body.videos = { results: this.#videos(idx, core, state) };
          break;
        case "release_dates":
          body.release_dates = { results: this.#releaseDates(idx, core) };
          break;
        case "external_ids":
          body.external_ids = this.#externalIds(idx, core);
          break;
        case "keywords":
          body.keywords = { keywords: this.#keywords(idx) };
          break;
        case "images":
          body.images = this.#images(idx, core);
          break;
        case "alternative_titles":
          body.alternative_titles = {
            titles: core.originalTitle === core.title ? [] : [
              { iso_3166_1: core.lang.country, title: core.originalTitle, type: "" },
            ],
          };
          break;
        default:
          // TMDB silently ignores append parts it does not know.
          break;
      }
    }
    return body;
  }

  // ---------------------------------------------------------------------------------------
  // Lists
  // ---------------------------------------------------------------------------------------

  /** Lists are computed at the start of the simulated hour containing `atMs`. */
  listInstant(atMs: number): number {
    return Math.floor(atMs / HOUR_MS) * HOUR_MS;
  }

  #order(key: string, build: () => ListOrder): ListOrder {
    const cached = this.#listCache.get(key);
    if (cached) return cached;
    const order = build();
    this.#listCache.set(key, order);
    if (this.#listCache.size > 16) {
      const oldest = this.#listCache.keys().next().value as string;
      this.#listCache.delete(oldest);
    }
    return order;
  }

  #page(order: ListOrder, page: number, at: number, trending = false): ListPage {
    const start = (page - 1) * LIST_PAGE_SIZE;
    const results: ListItem[] = [];
    for (let j = start; j < Math.min(order.order.length, start + LIST_PAGE_SIZE); j++) {
      const item = this.listItem(order.order[j], at);
      results.push(trending ? withMediaType(item) : item);
    }
    return {
      page,
      results,
      total_pages: Math.max(1, Math.ceil(order.total / LIST_PAGE_SIZE)),
      total_results: order.total,
    };
  }

  /** `/movie/popular` page (popularity desc; adult movies excluded). */
  popular(atMs: number, page: number): ListPage {
    const at = this.listInstant(atMs);
    const order = this.#order(`popular:${at}`, () => {
      const pop = this.#popularityArray(at);
      let total = 0;
      for (let i = 0; i < this.size; i++) if (this.adult[i] === 0) total++;
      return {
        order: topK(this.size, pop, (i) => this.adult[i] === 0, MAX_LIST_ITEMS, this.ids),
        total,
      };
    });
    return this.#page(order, page, at);
  }

  #windowList(kind: string, atMs: number, page: number, from: number, to: number): ListPage {
    const at = this.listInstant(atMs);
    const today = dayOf(at);
    const min = today + from;
    const max = today + to;
    const order = this.#order(`${kind}:${at}`, () => {
      const pop = this.#popularityArray(at);
      const include = (i: number) => {
        const r = this.releaseDay[i];
        return this.adult[i] === 0 && r !== NO_DATE && r >= min && r <= max;
      };
      let total = 0;
      for (let i = 0; i < this.size; i++) if (include(i)) total++;
      return { order: topK(this.size, pop, include, MAX_LIST_ITEMS, this.ids), total };
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
    const at = this.listInstant(atMs);
    const today = dayOf(at);
    const order = this.#order(`trending-${window}:${at}`, () => {
      const pop = this.#popularityArray(at);
      const score = new Float64Array(this.size);
      const period = window === "day" ? today : Math.floor((today + 3) / 7);
      const salt = window === "day" ? S.trendDay : S.trendWeek;
      const reach = window === "day" ? 45 : 90;
      let total = 0;
      for (let i = 0; i < this.size; i++) {
        if (this.adult[i] === 1) continue;
        total++;
        const u = unit4(this.seed, this.ids[i], period, salt);
        let f = window === "day" ? 0.05 + 4 * u ** 3 : 0.2 + 2.5 * u * u;
        const r = this.releaseDay[i];
        if (r !== NO_DATE && Math.abs(today - r) <= reach) f *= window === "day" ? 3 : 2;
        score[i] = pop[i] * f;
      }
      return {
        order: topK(this.size, score, (i) => this.adult[i] === 0, MAX_LIST_ITEMS, this.ids),
        total: Math.min(total, MAX_LIST_ITEMS),
      };
    });
    return this.#page(order, page, at, true);
  }

  // ---------------------------------------------------------------------------------------
  // Changes
  // ---------------------------------------------------------------------------------------

  /**
   * Indexes (ascending, i.e. id ascending) of movies with a change instant in
   * [startMs, endMs) that is not after `nowMs`. Only days from the baseline on are simulated.
   */
  changedIndexes(startMs: number, endMs: number, nowMs: number): Int32Array {
    const end = Math.min(endMs, nowMs + 1);
    const key = `${startMs}|${end}`;
    if (this.#changesCache?.key === key) return this.#changesCache.idx;
    if (end <= startMs) return new Int32Array(0);
    const firstDay = Math.max(this.baselineDay, dayOf(startMs));
    const lastDay = dayOf(end - 1);
    const mark = new Uint8Array(this.size);
    let count = 0;
    for (let d = firstDay; d <= lastDay; d++) {
      const ch = this.#dayChanges(d);
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
    let n = 0;
    for (let i = 0; i < this.size && n < count; i++) if (mark[i] === 1) idx[n++] = i;
    this.#changesCache = { key, idx };
    return idx;
  }

  /** Ids changed in [startMs, endMs) (not after `nowMs`), ascending. */
  changedIds(startMs: number, endMs: number, nowMs: number): number[] {
    return Array.from(this.changedIndexes(startMs, endMs, nowMs), (i) => this.ids[i]);
  }

  /** A `/movie/changes` page (100 ids per page). */
  changes(startMs: number, endMs: number, nowMs: number, page: number): ChangesPage {
    const idx = this.changedIndexes(startMs, endMs, nowMs);
    const start = (page - 1) * CHANGES_PAGE_SIZE;
    const results: { id: number; adult: boolean }[] = [];
    for (let j = start; j < Math.min(idx.length, start + CHANGES_PAGE_SIZE); j++) {
      results.push({ id: this.ids[idx[j]], adult: this.adult[idx[j]] === 1 });
    }
    return {
      results,
      page,
      total_pages: Math.max(1, Math.ceil(idx.length / CHANGES_PAGE_SIZE)),
      total_results: idx.length,
    };
  }

  // ---------------------------------------------------------------------------------------
  // Static endpoints
  // ---------------------------------------------------------------------------------------

  /** `/configuration`. */
  configuration(): unknown {
    return {
      images: {
        base_url: "http://image.tmdb.org/t/p/",
        secure_base_url: "https://image.tmdb.org/t/p/",
        backdrop_sizes: ["w300", "w780", "w1280", "original"],
        logo_sizes: ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
        poster_sizes: ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
        profile_sizes: ["w45", "w185", "h632", "original"],
        still_sizes: ["w92", "w185", "w300", "original"],
      },
      change_keys: CHANGE_KEYS,
    };
  }

  /** `/genre/movie/list`. */
  genreList(): { genres: IdName[] } {
    return { genres: GENRES.map((g) => ({ ...g })) };
  }
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

/** TMDB's `/configuration` change keys. */
const CHANGE_KEYS = [
  "adult",
  "air_date",
  "also_known_as",
  "alternative_titles",
  "biography",
  "birthday",
  "budget",
  "cast",
  "certifications",
  "character_names",
  "created_by",
  "crew",
  "deathday",
  "episode",
  "episode_number",
  "episode_run_time",
  "freebase_id",
  "freebase_mid",
  "general",
  "genres",
  "guest_stars",
  "homepage",
  "images",
  "imdb_id",
  "languages",
  "name",
  "network",
  "origin_country",
  "original_name",
  "original_title",
  "overview",
  "parts",
  "place_of_birth",
  "plot_keywords",
  "production_code",
  "production_companies",
  "production_countries",
  "releases",
  "revenue",
  "runtime",
  "season",
  "season_number",
  "season_regular",
  "spoken_languages",
  "status",
  "tagline",
  "title",
  "translations",
  "tvdb_id",
  "tvrage_id",
  "type",
  "video",
  "videos",
];
