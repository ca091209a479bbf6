/**
 * Movie generation: everything `/movie/{id}` and the list items show about a movie, generated
 * on demand from `hash(seed, id, …)` — titles in several scripts, overview, genres, images,
 * companies, a shared pool of people for credits, videos, release dates per country, external
 * ids, keywords — with TMDB's field names, order, types and quirks. Nothing is stored but a
 * bounded cache of recently used movies' static parts.
 *
 * What changes over simulated time comes in as a {@link MovieState} (the number of changes so
 * far and the day of the last one): popularity, votes, tagline, cast additions and published
 * videos follow from it, so a movie's JSON changes only across one of its change instants.
 *
 * @module
 */

import type { MovieState } from "./changes.ts";
import { FIGHT_CLUB_ID } from "./ids.ts";
import { popularityAt, round3 } from "./popularity.ts";
import { hash4, Rng, unit4 } from "./random.ts";
import { SALT } from "./salts.ts";
import { DAY_MS, isoDay, NO_DATE } from "./time.ts";
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

/** The per-movie facts generation starts from (see `attributes.ts`, `lifecycle.ts`). */
export interface MovieFacts {
  /** TMDB id of movie index `idx`. */
  idOf(idx: number): number;
  /** Lattice slot of movie index `idx` (neighbouring slots share collections). */
  slotOf(idx: number): number;
  /** Release day or `NO_DATE`. */
  releaseDay(idx: number): number;
  /** Base popularity. */
  basePopularity(idx: number): number;
  /** Adult flag. */
  adult(idx: number): boolean;
}

/** Options of {@link MovieGenerator}. */
export interface MovieGeneratorOptions {
  /** Catalog seed (uint32). */
  seed: number;
  /** The catalog's anchor day (videos are published around it). */
  anchorDay: number;
  /** Number of people in the shared pool. */
  peopleCount: number;
  /** Where per-movie facts come from. */
  facts: MovieFacts;
}

/** The fields of the daily id export (`exports.ts`) that do not change over time. */
export interface ExportFields {
  /** `original_title`. */
  originalTitle: string;
  /** `video`. */
  video: boolean;
}

interface Company {
  id: number;
  logo_path: string | null;
  name: string;
  origin_country: string;
}

/** The first part of a movie's static data (cheap enough for a whole-catalog export). */
interface Head {
  lang: Language;
  originalTitle: string;
  title: string;
  noun: string;
  overview: string;
  genreIds: number[];
  poster: string | null;
  backdrop: string | null;
  video: boolean;
}

interface Core extends Head {
  id: number;
  adult: boolean;
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
}

const PATH_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const VIDEO_KEY_ALPHABET = PATH_ALPHABET + "-_";
const IMAGE_PATH_CHARS = 27;
const CORE_CACHE_SIZE = 20_000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function imagePath(rng: Rng): string {
  return "/" + rng.chars(PATH_ALPHABET, IMAGE_PATH_CHARS) + ".jpg";
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

/** Generates movie payloads; see the module doc. */
export class MovieGenerator {
  /** Number of people in the shared person pool. */
  readonly peopleCount: number;
  readonly #seed: number;
  readonly #anchorDay: number;
  readonly #facts: MovieFacts;
  readonly #actorCount: number;
  readonly #crewCount: number;
  readonly #coreCache = new Map<number, Core>();

  /** A generator for one catalog. */
  constructor(options: MovieGeneratorOptions) {
    this.#seed = options.seed;
    this.#anchorDay = options.anchorDay;
    this.#facts = options.facts;
    this.peopleCount = options.peopleCount;
    this.#actorCount = Math.floor(this.peopleCount / 10) * 7;
    this.#crewCount = Math.floor(this.peopleCount / 10) * 3;
  }

  #countDraws(id: number, version: number, salt: number, p: number): number {
    let n = 0;
    for (let j = 1; j <= version; j++) if (unit4(this.#seed, id, j, salt) < p) n++;
    return n;
  }

  // ---------------------------------------------------------------------------------------
  // Static per-movie data
  // ---------------------------------------------------------------------------------------

  #core(idx: number): Core {
    const cached = this.#coreCache.get(idx);
    if (cached) return cached;
    const core = this.#buildCore(idx);
    if (this.#coreCache.size >= CORE_CACHE_SIZE) this.#coreCache.clear();
    this.#coreCache.set(idx, core);
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

  /**
   * The head of a movie's static data, drawn from `rng` (the movie's core stream). With
   * `strings: false` the overview and image paths are not built (their draws still happen, so
   * the stream stays where the full build leaves it): the export's cheap path.
   */
  #head(rng: Rng, strings: boolean): Head {
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
        const place = rng.pick(TITLE_NOUNS);
        if (!strings) continue;
        sentences.push(
          template.replace("{t}", title).replace("{n}", place.toLowerCase()).replace("{p}", role),
        );
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
    const path = (): string => {
      if (strings) return imagePath(rng);
      rng.skip(IMAGE_PATH_CHARS);
      return "";
    };
    const poster = rng.chance(0.06) ? null : path();
    const backdrop = rng.chance(0.15) ? null : path();
    const video = rng.chance(0.01);
    return { lang, originalTitle, title, noun, overview, genreIds, poster, backdrop, video };
  }

  /** `original_title` and `video` of movie index `idx`, without building the rest. */
  exportFields(idx: number): ExportFields {
    const id = this.#facts.idOf(idx);
    if (id === FIGHT_CLUB_ID) return { originalTitle: "Fight Club", video: false };
    const cached = this.#coreCache.get(idx);
    if (cached) return { originalTitle: cached.originalTitle, video: cached.video };
    const head = this.#head(new Rng(hash4(this.#seed, id, 0, SALT.core)), false);
    return { originalTitle: head.originalTitle, video: head.video };
  }

  #buildCore(idx: number): Core {
    const sd = this.#seed;
    const id = this.#facts.idOf(idx);
    const rng = new Rng(hash4(sd, id, 0, SALT.core));
    const head = this.#head(rng, true);
    const { lang, title } = head;
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
    const group = Math.floor(this.#facts.slotOf(idx) / 4);
    if (unit4(sd, group, 0, SALT.collection) < 0.08 && rng.chance(0.7)) {
      const g = new Rng(hash4(sd, group, 1, SALT.collection));
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
    const pop = this.#facts.basePopularity(idx);
    const voteMean = Math.min(9.6, Math.max(1, 6.3 + 1.1 * rng.normal()));
    const voteBase = Math.floor(pop * (3 + 40 * rng.next()));
    const voteInc = 1 + Math.floor((pop * rng.next()) / 3);

    const core: Core = {
      ...head,
      id,
      adult: this.#facts.adult(idx),
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
    };
    if (id === FIGHT_CLUB_ID) {
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
    const rng = new Rng(hash4(this.#seed, ci, 0, SALT.company));
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
    const h = hash4(this.#seed, pidx, 0, SALT.person);
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
    return hex8(hash4(this.#seed, id, kind * 1_000_003 + n, SALT.credit)) + hex8(id) +
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
    const id = this.#facts.idOf(idx);
    const rng = new Rng(hash4(this.#seed, id, 0, SALT.credits));
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
    const added = this.#countDraws(id, state.version, SALT.castAdd, 0.15);
    for (let j = 1; j <= added; j++) {
      const r = new Rng(hash4(this.#seed, id, j, SALT.castAddGen));
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
    const id = this.#facts.idOf(idx);
    const rng = new Rng(hash4(this.#seed, id, 0, SALT.videos));
    if (rng.chance(0.3)) return [];
    const n = rng.range(1, 8);
    const r = this.#facts.releaseDay(idx);
    const A = this.#anchorDay;
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
    const r = this.#facts.releaseDay(idx);
    if (r === NO_DATE) return [];
    const rng = new Rng(hash4(this.#seed, this.#facts.idOf(idx), 0, SALT.dates));
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
    const id = this.#facts.idOf(idx);
    const rng = new Rng(hash4(this.#seed, id, 0, SALT.external));
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
    const rng = new Rng(hash4(this.#seed, this.#facts.idOf(idx), 0, SALT.keywords));
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
    const rng = new Rng(hash4(this.#seed, this.#facts.idOf(idx), 0, SALT.images));
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

  #common(idx: number, state: MovieState) {
    const core = this.#core(idx);
    const r = this.#facts.releaseDay(idx);
    const released = r !== NO_DATE && r <= state.day;
    const voteCount = released ? core.voteBase + state.version * core.voteInc : 0;
    const voteAverage = voteCount === 0 ? 0 : round3(
      Math.min(
        10,
        Math.max(
          0,
          core.voteMean + (unit4(this.#seed, core.id, state.version, SALT.votes) - 0.5) * 0.4,
        ),
      ),
    );
    return {
      core,
      released,
      popularity: popularityAt(
        this.#seed,
        core.id,
        this.#facts.basePopularity(idx),
        r,
        state.version,
        state.day,
      ),
      voteCount,
      voteAverage,
      releaseDate: r === NO_DATE ? "" : isoDay(r),
    };
  }

  /** The list item of movie index `idx` in state `state`. */
  listItem(idx: number, state: MovieState): ListItem {
    const { core, popularity, voteCount, voteAverage, releaseDate } = this.#common(idx, state);
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
   * The `/movie/{id}` body of movie index `idx` in state `state`, with the requested append
   * parts (unknown ones ignored, like TMDB).
   */
  details(idx: number, state: MovieState, append: readonly string[] = []): MovieDetails {
    const id = this.#facts.idOf(idx);
    const { core, released, popularity, voteCount, voteAverage, releaseDate } = this.#common(
      idx,
      state,
    );
    const r = this.#facts.releaseDay(idx);
    const status = r === NO_DATE ? core.noDateStatus : released ? "Released" : core.preStatus;
    const tagVersion = this.#countDraws(id, state.version, SALT.tagCount, 0.12);
    const tagRng = new Rng(hash4(this.#seed, id, tagVersion, SALT.tagPick));
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
}
