/**
 * A typical TMDB movie details payload, as `/movie/{id}?append_to_response=credits,videos,
 * release_dates,external_ids,keywords` answers it, with TMDB's field names: 30 cast, 15 key
 * crew (all of them kept by `ingest_movie`), 5 videos, 3 genres, 10 release dates in 4
 * countries, 8 keywords. Deterministic in the TMDB id; the `changed` variant is what a
 * routine TMDB edit looks like (popularity and votes moved, one character renamed). Used by
 * the ingest-cost scenario (`ingest_cost.ts`); pure, see `typical_payload_test.ts`.
 *
 * @module
 */

/** Cast members in a typical payload. */
export const TYPICAL_CAST = 30;
/** Key crew members (Directing, Writing and the key jobs) in a typical payload. */
export const TYPICAL_CREW = 15;
/** Videos in a typical payload. */
export const TYPICAL_VIDEOS = 5;
/** Genres in a typical payload. */
export const TYPICAL_GENRES = 3;
/** Release dates (over all countries) in a typical payload. */
export const TYPICAL_RELEASE_DATES = 10;

/** First person id of the shared pool the credits draw from. */
export const PERSON_ID_BASE = 60_000_000;
/** People in that pool: movies share some of them, as real casts do. */
export const PERSON_POOL = 20_000;

const GENRES = [
  { id: 28, name: "Action" },
  { id: 12, name: "Adventure" },
  { id: 16, name: "Animation" },
  { id: 35, name: "Comedy" },
  { id: 80, name: "Crime" },
  { id: 18, name: "Drama" },
  { id: 14, name: "Fantasy" },
  { id: 27, name: "Horror" },
  { id: 9648, name: "Mystery" },
  { id: 878, name: "Science Fiction" },
  { id: 53, name: "Thriller" },
];

// Department and job of each key crew member (ingest_movie keeps Directing, Writing and these
// jobs, so all 15 are stored).
const CREW_ROLES: [string, string][] = [
  ["Directing", "Director"],
  ["Writing", "Screenplay"],
  ["Writing", "Novel"],
  ["Writing", "Story"],
  ["Production", "Producer"],
  ["Production", "Producer"],
  ["Production", "Executive Producer"],
  ["Production", "Executive Producer"],
  ["Production", "Casting"],
  ["Sound", "Original Music Composer"],
  ["Camera", "Director of Photography"],
  ["Editing", "Editor"],
  ["Directing", "Assistant Director"],
  ["Writing", "Characters"],
  ["Production", "Executive Producer"],
];

// 10 release dates over 4 countries: [country, [type, days after the premiere, certification]].
const RELEASES: [string, [number, number, string][]][] = [
  ["US", [[1, 0, ""], [3, 14, "PG-13"], [4, 60, "PG-13"], [5, 90, "PG-13"]]],
  ["GB", [[3, 16, "12A"], [4, 62, "12"]]],
  ["DE", [[3, 21, "12"], [4, 70, "12"]]],
  ["FR", [[3, 18, "Tous publics"], [5, 120, ""]]],
];

/** 32-bit FNV-1a of the parts, as an unsigned integer. */
function hash(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join("\u0000")) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** 24 hex digits, like TMDB's credit and video ids. */
function hex24(...parts: (string | number)[]): string {
  return [0, 1, 2].map((i) => hash(...parts, i).toString(16).padStart(8, "0")).join("");
}

function personId(tmdbId: number, k: number, role: string): number {
  return PERSON_ID_BASE + (hash(tmdbId, k, role) % PERSON_POOL);
}

function person(id: number) {
  return {
    adult: false,
    gender: 1 + (id % 2),
    id,
    known_for_department: id % 3 === 0 ? "Production" : "Acting",
    name: `Person ${id}`,
    original_name: `Person ${id}`,
    popularity: (id % 997) / 10,
    profile_path: `/p${hex24("profile", id).slice(0, 27)}.jpg`,
  };
}

/** Options for {@link typicalPayload}. */
export interface TypicalPayloadOptions {
  /**
   * `base` (default), or `changed`: popularity, vote_average and vote_count moved and the
   * 4th cast member's character renamed, as a routine TMDB edit does.
   */
  variant?: "base" | "changed";
}

/** A typical movie details payload for `tmdbId` (see the module doc). */
export function typicalPayload(
  tmdbId: number,
  options: TypicalPayloadOptions = {},
): Record<string, unknown> {
  if (!(Number.isInteger(tmdbId) && tmdbId > 0 && tmdbId <= 2_147_483_647)) {
    throw new RangeError(`tmdbId must be a positive 32-bit integer: current value is ${tmdbId}`);
  }
  const changed = (options.variant ?? "base") === "changed";
  const premiere = Date.UTC(2015, 0, 1) + (hash(tmdbId, "premiere") % 3650) * 86_400_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const g0 = hash(tmdbId, "genres") % GENRES.length;
  const genres = [0, 1, 2].map((i) => GENRES[(g0 + i * 3) % GENRES.length]);
  const cast = Array.from({ length: TYPICAL_CAST }, (_, k) => ({
    ...person(personId(tmdbId, k, "cast")),
    cast_id: k + 1,
    character: changed && k === 3 ? `Character ${k} (voice)` : `Character ${k}`,
    credit_id: hex24(tmdbId, "cast", k),
    order: k,
  }));
  const crew = CREW_ROLES.map(([department, job], k) => ({
    ...person(personId(tmdbId, k, "crew")),
    credit_id: hex24(tmdbId, "crew", k),
    department,
    job,
  }));
  const videoTypes = ["Trailer", "Teaser", "Clip", "Featurette", "Behind the Scenes"];
  const videos = videoTypes.map((type, k) => ({
    iso_639_1: "en",
    iso_3166_1: "US",
    name: `${type} ${k + 1}`,
    key: hex24(tmdbId, "key", k).slice(0, 11),
    site: "YouTube",
    size: k % 2 === 0 ? 1080 : 2160,
    type,
    official: k < 3,
    published_at: iso(premiere - (40 - k * 7) * 86_400_000).replace(".000Z", "Z"),
    id: hex24(tmdbId, "video", k),
  }));
  const releaseDates = RELEASES.map(([country, dates]) => ({
    iso_3166_1: country,
    release_dates: dates.map(([type, days, certification]) => ({
      certification,
      descriptors: [],
      iso_639_1: "",
      note: type === 1 ? "Premiere" : "",
      release_date: iso(premiere + days * 86_400_000),
      type,
    })),
  }));
  const keywords = Array.from({ length: 8 }, (_, k) => ({
    id: 1000 + (hash(tmdbId, "kw", k) % 50_000),
    name: `keyword ${k}`,
  }));
  const popularity = 5 + (hash(tmdbId, "pop") % 10_000) / 100;
  const votes = 100 + (hash(tmdbId, "votes") % 20_000);
  return {
    adult: false,
    backdrop_path: `/b${hex24(tmdbId, "backdrop").slice(0, 27)}.jpg`,
    belongs_to_collection: null,
    budget: 10_000_000 + (hash(tmdbId, "budget") % 150) * 1_000_000,
    genres,
    homepage: "",
    id: tmdbId,
    imdb_id: `tt${String(1_000_000 + (hash(tmdbId, "imdb") % 8_999_999))}`,
    origin_country: ["US"],
    original_language: "en",
    original_title: `Typical Movie ${tmdbId}`,
    overview: `A typical synthetic movie (${tmdbId}) whose overview is about as long as ` +
      "TMDB's usually are: a couple of sentences about who wants what, what stands in " +
      "the way, and why it matters.",
    popularity: changed ? popularity + 1.234 : popularity,
    poster_path: `/o${hex24(tmdbId, "poster").slice(0, 27)}.jpg`,
    production_companies: [
      {
        id: 33,
        logo_path: "/8lvHyhjr8oUKOOy2dKXoALWKdp0.png",
        name: "Universal Pictures",
        origin_country: "US",
      },
      {
        id: 174,
        logo_path: "/IuAlhI9eVC9Z8UQWOIDdWRKSEJ.png",
        name: "Warner Bros. Pictures",
        origin_country: "US",
      },
    ],
    production_countries: [{ iso_3166_1: "US", name: "United States of America" }],
    release_date: iso(premiere).slice(0, 10),
    revenue: 50_000_000 + (hash(tmdbId, "revenue") % 500) * 1_000_000,
    runtime: 90 + (hash(tmdbId, "runtime") % 60),
    spoken_languages: [{ english_name: "English", iso_639_1: "en", name: "English" }],
    status: "Released",
    tagline: "Nothing is typical.",
    title: `Typical Movie ${tmdbId}`,
    video: false,
    vote_average: changed ? 7.1 : 6.9,
    vote_count: changed ? votes + 17 : votes,
    credits: { cast, crew },
    videos: { results: videos },
    release_dates: { results: releaseDates },
    external_ids: {
      imdb_id: `tt${String(1_000_000 + (hash(tmdbId, "imdb") % 8_999_999))}`,
      wikidata_id: `Q${hash(tmdbId, "wd") % 10_000_000}`,
      facebook_id: null,
      instagram_id: null,
      twitter_id: null,
    },
    keywords: { keywords },
  };
}
