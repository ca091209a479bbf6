/**
 * Property test of the TMDB payload policy (migration 025), through the functions' own
 * storage path: `createPostgresCatalogStore(sql).storeAnswers` hands each response TEXT to
 * `public.ingest_tmdb_responses`, which parses it and stores it with `ingest_movie`.
 *
 * For two full `/movie/{id}` payloads (a stand-in movie, and a hand-written one with what the
 * stand-in never sends: the appended parts' ids, null nullable fields, duplicate credits,
 * videos and release dates) it proves:
 *   - every single drop, null or retype of a non-essential field, and seeded random
 *     combinations of 2–6 of them, store the movie with exactly the work columns and child
 *     rows the variant still carries, and the policy reports exactly the drift the mutations
 *     made: per movie, per call and, for the run, in `tmdb_payload_drift`;
 *   - an unusable essential field (missing, null, of another type, empty, out of range)
 *     fails only its movie, with the indexed path in the error; nothing of it is written
 *     (not even its drift or its people), and the rest of the batch is stored;
 *   - a value defaulted that way never overwrites what another movie said about a shared
 *     person or genre;
 *   - values at the edges of a field's type (fractions, 2^53, days that do not exist, "")
 *     are stored and counted by the same rules;
 *   - the essential paths the stand-in and its mutations respect (`ESSENTIAL_DETAIL_PATHS`)
 *     are exactly the essential rows of `public.tmdb_movie_fields()`.
 *
 * The expected rows and drift are computed here from the variant, by the test's own
 * statement of ingest_movie's rules (dedupe keys, key crew, defaults), not by asking SQL,
 * so a change to either side shows. Movies, people and genres get synthetic ids from
 * {@link SYNTHETIC} on, so the stand-in's rows are never touched; they are removed at the end.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import type postgres from "postgres";
import { createCatalog } from "../local/tmdb_standin/catalog.ts";
import {
  applyMutations,
  ESSENTIAL_DETAIL_PATHS,
  essentialMutations,
  keyPaths,
  type MutatedPayload,
  type Mutation,
  normalisePath,
  randomMutations,
  RETYPE_TARGETS,
  singleMutations,
} from "../local/tmdb_standin/mutations.ts";
import {
  createPostgresCatalogStore,
  type StoredMovie,
} from "../supabase/functions/_shared/store/catalog.ts";
import { MOVIE_APPEND_PARTS } from "../supabase/functions/_shared/tmdb/schemas.ts";
import { connect, needsStack } from "./_stack.ts";

/** Parsed JSON of unknown shape (the test indexes into it freely). */
// deno-lint-ignore no-explicit-any
type Json = any;

/** Drift as the policy reports it: `{path: {kind: n}}`. */
type Drift = Record<string, Record<string, number>>;

/** First synthetic id: movies, people and genres of this test live at and above it. */
const SYNTHETIC = 1_950_000_000;
/** People and genres of the variants that must fail: shifted so a leak would show. */
const FAILING_PEOPLE = SYNTHETIC + 1_000_000;
/** First movie id of each test (a block each, so a failed run's leftovers never collide). */
const SINGLE_IDS = SYNTHETIC;
const RANDOM_IDS = SYNTHETIC + 100_000;
const ESSENTIAL_IDS = SYNTHETIC + 200_000;
const EDGE_IDS = SYNTHETIC + 300_000;
const ADULT_IDS = SYNTHETIC + 400_000;
/** People and genres of each case's own (see {@link numbered}). */
const PRIVATE_PEOPLE = SYNTHETIC + 2_000_000;
/** Answers per `storeAnswers` call (one round trip each). */
const BATCH = 50;
/** The function name the drift is recorded under. */
const FUNCTION_NAME = "property-test";

// ---------------------------------------------------------------------------------------
// The base payloads
// ---------------------------------------------------------------------------------------

/** ingest_movie's key crew (025; the comment on public.work_crew says the same). */
const KEY_CREW_DEPARTMENTS = ["Directing", "Writing"];
const KEY_CREW_JOBS = [
  "Producer",
  "Executive Producer",
  "Original Music Composer",
  "Director of Photography",
  "Editor",
  "Casting",
];

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isKeyCrew = (c: Json) =>
  KEY_CREW_DEPARTMENTS.includes(c.department) || KEY_CREW_JOBS.includes(c.job);

let standin: Json = null;

/**
 * The smallest movie of a fixed stand-in catalog (variation off: the catalog's own payload)
 * that has every part filled: a collection, several genres, cast, videos, release dates in
 * several countries (one with a note), keywords, companies, and crew that is key by
 * department, key by job only, and not key; its crew cut to one member of each kind.
 */
function standinPayload(): Json {
  standin ??= pickStandinPayload();
  return structuredClone(standin);
}

function pickStandinPayload(): Json {
  const at = Date.parse("2026-03-01T12:00:00Z");
  const catalog = createCatalog({ size: 2000, seed: 1, anchor: at });
  let best: Json = null;
  let bestLength = Infinity;
  for (const id of catalog.ids) {
    const d: Json = catalog.details(id, at, MOVIE_APPEND_PARTS);
    const crew: Json[] = d.credits.crew;
    const filled = d.belongs_to_collection !== null && d.genres.length >= 2 &&
      d.credits.cast.length >= 2 && d.videos.results.length >= 2 &&
      d.release_dates.results.length >= 2 &&
      d.release_dates.results.some((r: Json) => r.release_dates.some((x: Json) => x.note)) &&
      d.keywords.keywords.length >= 1 && d.production_companies.length >= 1 &&
      d.production_countries.length >= 1 && d.spoken_languages.length >= 1 &&
      d.origin_country.length >= 1 &&
      crew.some((c) => KEY_CREW_DEPARTMENTS.includes(c.department)) &&
      crew.some((c) => !KEY_CREW_DEPARTMENTS.includes(c.department) && isKeyCrew(c)) &&
      crew.some((c) => !isKeyCrew(c));
    const length = JSON.stringify(d).length;
    if (filled && length < bestLength) [best, bestLength] = [d, length];
  }
  if (best === null) throw new Error("the stand-in catalog has no movie with every part filled");
  // One crew member of each kind: the rules do not depend on how many there are, the
  // time every variant takes to store does.
  const crew: Json[] = best.credits.crew;
  best.credits.crew = [
    crew.find((c) => KEY_CREW_DEPARTMENTS.includes(c.department)),
    crew.find((c) => !KEY_CREW_DEPARTMENTS.includes(c.department) && isKeyCrew(c)),
    crew.find((c) => !isKeyCrew(c)),
  ];
  return best;
}

/**
 * A hand-written payload as TMDB sends it, with what the stand-in's lacks: the appended
 * parts' own `id` (optional), null where TMDB documents null, `release_date: ""`, a
 * duplicate genre, cast and crew credits, a duplicate video, a second video at the same site
 * and key and a third with that key on another site, an exact duplicate release and two
 * releases that differ only by their note. Its people (ids from 900,000) are not the
 * stand-in's, so the two never disagree about a shared person.
 */
function handWrittenPayload(): Json {
  const person = (id: number, name: string, department: string | null, profile: string | null) => ({
    adult: false,
    gender: id % 3,
    id,
    known_for_department: department,
    name,
    original_name: name,
    popularity: id / 100,
    profile_path: profile,
  });
  const cast = (
    p: Json,
    castId: number,
    character: string | null,
    creditId: string,
    order: number,
  ) => ({
    ...p,
    cast_id: castId,
    character,
    credit_id: creditId,
    order,
  });
  const crew = (p: Json, creditId: string, department: string, job: string) => ({
    ...p,
    credit_id: creditId,
    department,
    job,
  });
  const ann = person(900819, "Ann Norton", "Acting", "/ann.jpg");
  const bo = person(900287, "Bo Pitt", null, null);
  const cy = person(901283, "Cy Bonham", "Acting", "/cy.jpg");
  const dee = person(907467, "Dee Fincher", "Directing", "/dee.jpg");
  const jim = person(907468, "Jim Uhls", "Writing", null);
  const mo = person(901034, "Mo Dust", "Sound", null);
  const lee = person(905555, "Lee Lens", "Camera", "/lee.jpg");
  const ida = person(905556, "Ida Set", "Art", null);
  const release = (certification: string, note: string, date: string, type: number) => ({
    certification,
    descriptors: certification === "R" ? ["violence", "language"] : [],
    iso_639_1: note === "" ? "" : "en",
    note,
    release_date: date,
    type,
  });
  const video = (id: string, site: string, key: string, type: string, official: boolean) => ({
    iso_639_1: "en",
    iso_3166_1: "US",
    name: `${type} ${id}`,
    key,
    site,
    size: 1080,
    type,
    official,
    published_at: "2014-07-03T15:31:28.000Z",
    id,
  });
  return {
    adult: false,
    backdrop_path: null,
    belongs_to_collection: {
      id: 1241,
      name: "The Club Collection",
      poster_path: null,
      backdrop_path: "/club.jpg",
    },
    budget: 63000000,
    genres: [{ id: 18, name: "Drama" }, { id: 53, name: "Thriller" }, { id: 18, name: "Drama" }],
    homepage: null,
    id: 550,
    imdb_id: null,
    origin_country: ["US", "DE"],
    original_language: "en",
    original_title: "Club",
    overview: null,
    popularity: 61.416,
    poster_path: "/club-poster.jpg",
    production_companies: [
      { id: 508, logo_path: "/regency.png", name: "Regency", origin_country: "US" },
      { id: 711, logo_path: null, name: "Fox 2000", origin_country: "" },
    ],
    production_countries: [{ iso_3166_1: "US", name: "United States of America" }],
    release_date: "",
    revenue: 100853753,
    runtime: null,
    spoken_languages: [{ english_name: "English", iso_639_1: "en", name: "English" }],
    status: "Released",
    tagline: null,
    title: "Club",
    video: false,
    vote_average: 8.4,
    vote_count: 30000,
    credits: {
      id: 550,
      cast: [
        cast(ann, 4, "The Narrator", "52fe4250c3a36847f80149f3", 0),
        cast(bo, 5, null, "52fe4250c3a36847f80149f7", 1),
        cast(cy, 7, "Marla", "52fe4250c3a36847f8014a05", 2),
        cast(bo, 5, null, "52fe4250c3a36847f80149f7", 1),
      ],
      crew: [
        crew(dee, "631f0289568463007bbe28a8", "Directing", "Director"),
        crew(jim, "52fe4250c3a36847f8014a11", "Writing", "Screenplay"),
        crew(mo, "5e9ab4e6e4b576001d4e5b23", "Sound", "Original Music Composer"),
        crew(lee, "52fe4250c3a36847f8014a2f", "Camera", "Director of Photography"),
        crew(ida, "5e9ab4e6e4b576001d4e5b24", "Art", "Production Design"),
        crew(dee, "631f0289568463007bbe28a9", "Production", "Casting"),
        crew(dee, "631f0289568463007bbe28a8", "Directing", "Director"),
      ],
    },
    videos: {
      id: 550,
      results: [
        video("5c9294240e0a267cd516835f", "YouTube", "BdJKm16Co6M", "Trailer", true),
        video("639d5326be6d88007f170f44", "Vimeo", "236214287", "Clip", false),
        video("5c9294240e0a267cd516835f", "YouTube", "BdJKm16Co6M", "Trailer", true),
        video("5c9294240e0a267cd5168360", "YouTube", "BdJKm16Co6M", "Teaser", false),
        video("639d5326be6d88007f170f45", "Vimeo", "BdJKm16Co6M", "Teaser", false),
      ],
    },
    release_dates: {
      id: 550,
      results: [
        {
          iso_3166_1: "US",
          release_dates: [
            release("R", "", "1999-10-15T00:00:00.000Z", 3),
            release("R", "DVD", "2000-06-06T00:00:00.000Z", 5),
            release("R", "", "1999-10-15T00:00:00.000Z", 3),
          ],
        },
        {
          iso_3166_1: "DE",
          release_dates: [
            release("18", "", "1999-11-11T00:00:00.000Z", 3),
            release("18", "Berlinale", "1999-11-11T00:00:00.000Z", 3),
            release("", "", "2000-05-01T00:00:00.000Z", 4),
          ],
        },
      ],
    },
    external_ids: {
      id: 550,
      imdb_id: "tt0137523",
      wikidata_id: "Q190050",
      facebook_id: null,
      instagram_id: "clubmovie",
      twitter_id: null,
    },
    keywords: {
      id: 550,
      keywords: [{ id: 825, name: "support group" }, { id: 4565, name: "dual identity" }],
    },
  };
}

/** A copy of `payload` whose genre and person ids are moved up by `offset`. */
function shiftIds(payload: Json, offset: number): Json {
  const copy = structuredClone(payload);
  for (const g of copy.genres) g.id += offset;
  for (const c of [...copy.credits.cast, ...copy.credits.crew]) c.id += offset;
  return copy;
}

/** The two base payloads, with synthetic people and genres. */
function bases(offset = SYNTHETIC): { name: string; payload: Json }[] {
  return [
    { name: "stand-in", payload: shiftIds(standinPayload(), offset) },
    { name: "hand-written", payload: shiftIds(handWrittenPayload(), offset) },
  ];
}

// ---------------------------------------------------------------------------------------
// The policy, as SQL states it
// ---------------------------------------------------------------------------------------

interface Field {
  path: string;
  json_type: string;
  nullable: boolean;
  optional: boolean;
  essential: boolean;
}

/** The rows of `public.tmdb_movie_fields()` by normalised path (array element rows left out). */
async function policyFields(sql: postgres.Sql): Promise<Map<string, Field>> {
  const rows = await sql<Field[]>`
    select case when parent = '' then field else parent || '.' || field end as path,
           json_type, nullable, optional, essential
      from public.tmdb_movie_fields()
     where field <> '[]'`;
  return new Map(rows.map((r) => [r.path, { ...r }]));
}

// ---------------------------------------------------------------------------------------
// What a stored variant must look like (the test's own statement of ingest_movie's rules)
// ---------------------------------------------------------------------------------------

/** Whether `v` starts with a calendar day that exists (`2023-02-30` does not; V8 rolls it over). */
function realDay(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
  if (m === null) return false;
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return day.toISOString().startsWith(m[0]);
}

/** A TMDB date or timestamp as epoch ms; null for "", another type or an instant that is not. */
function instant(v: unknown): number | null {
  if (typeof v !== "string" || !realDay(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/** A `key` field's longest value: it is part of a primary or unique key (025). */
const MAX_KEY_LENGTH = 255;

/** `v` as a key: a string of at most {@link MAX_KEY_LENGTH} characters, else null. */
const keyText = (v: unknown): string | null =>
  typeof v === "string" && [...v].length <= MAX_KEY_LENGTH ? v : null;

/**
 * Whether `value` has the policy's `json_type`: whole numbers within their column
 * (smallint, integer; bigint up to 2^53), keys of at most 255 characters, dates and
 * timestamps as strings or "".
 */
function hasPolicyType(value: unknown, jsonType: string): boolean {
  switch (jsonType) {
    case "smallint":
      return Number.isInteger(value) && (value as number) >= -32768 && (value as number) <= 32767;
    case "integer":
      return Number.isInteger(value) && (value as number) >= -(2 ** 31) &&
        (value as number) < 2 ** 31;
    case "bigint":
      return Number.isSafeInteger(value);
    case "key":
      return typeof value === "string" && [...value].length <= MAX_KEY_LENGTH;
    case "number":
      return typeof value === "number";
    case "date":
      return typeof value === "string" &&
        (value === "" || (/^\d{4}-\d{2}-\d{2}$/.test(value) && instant(value) !== null));
    case "timestamp":
      return typeof value === "string" && (value === "" || instant(value) !== null);
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    default:
      throw new Error(`the policy has a JSON type this test does not know: ${jsonType}`);
  }
}

/** The value at a concrete path (`credits.cast[3].character`); undefined when absent. */
function valueAt(payload: Json, concrete: string): unknown {
  let node: Json = payload;
  for (const token of concrete.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (node === null || typeof node !== "object") return undefined;
    node = token.startsWith("[") ? node[Number(token.slice(1, -1))] : node[token];
  }
  return node;
}

function addDrift(drift: Drift, path: string, kind: string, n = 1): void {
  const kinds = drift[path] ??= {};
  kinds[kind] = (kinds[kind] ?? 0) + n;
}

/**
 * The drift a variant of a zero-drift payload must report: for every value its mutations
 * changed, `missing` (unless optional), `null` (unless nullable) or `wrong_type` (unless the
 * new value still has the field's type, e.g. a null path retyped to "").
 */
function expectedDrift(variant: MutatedPayload, fields: Map<string, Field>): Drift {
  const drift: Drift = {};
  for (const concrete of variant.changed) {
    const path = normalisePath(concrete);
    const field = fields.get(path);
    if (field === undefined) throw new Error(`${variant.label}: the policy has no field ${path}`);
    const value = valueAt(variant.payload, concrete);
    if (value === undefined) {
      if (!field.optional) addDrift(drift, path, "missing");
    } else if (value === null) {
      if (!field.nullable) addDrift(drift, path, "null");
    } else if (!hasPolicyType(value, field.json_type)) {
      addDrift(drift, path, "wrong_type");
    }
  }
  return drift;
}

function sumDrift(drifts: Drift[]): Drift {
  const sum: Drift = {};
  for (const d of drifts) {
    for (const [path, kinds] of Object.entries(d)) {
      for (const [kind, n] of Object.entries(kinds)) addDrift(sum, path, kind, n);
    }
  }
  return sum;
}

/** What `storedRows` reads for one movie. */
interface StoredRows {
  title: string;
  collection_id: number | null;
  origin_country: number;
  spoken_languages: number;
  production_companies: number;
  production_countries: number;
  keywords: number;
  genres: number;
  cast: number;
  crew: number;
  videos: number;
  release_dates: number;
}

const objects = (v: unknown): Json[] => Array.isArray(v) ? v.filter(isObject) : [];
const text = (v: unknown): string | null => typeof v === "string" ? v : null;
const part = (v: unknown): Json => isObject(v) ? v : {};
const distinct = (keys: unknown[]) => new Set(keys.map((k) => JSON.stringify(k))).size;

/**
 * The work columns and child rows ingest_movie (025) must store for `p`: values of another
 * type are defaults (title falls back to original_title, then ""; a collection needs an
 * integer id); children are the object elements, deduplicated like the SQL does (genre id,
 * credit_id, video id or else site:key, release country/type/instant/note) and crew is key
 * crew only.
 */
function expectedRows(p: Json): StoredRows {
  const collection = part(p.belongs_to_collection);
  const credits = part(p.credits);
  const releases = objects(part(p.release_dates).results).flatMap((r) =>
    objects(r.release_dates).map((d) => [
      r.iso_3166_1,
      d.type,
      instant(d.release_date),
      keyText(d.note) ?? "",
    ])
  );
  return {
    title: text(p.title) ?? text(p.original_title) ?? "",
    collection_id: Number.isInteger(collection.id) ? collection.id : null,
    origin_country: Array.isArray(p.origin_country)
      ? p.origin_country.filter((c: unknown) => typeof c === "string").length
      : 0,
    spoken_languages: objects(p.spoken_languages).length,
    production_companies: objects(p.production_companies).length,
    production_countries: objects(p.production_countries).length,
    keywords: objects(part(p.keywords).keywords).length,
    genres: distinct(objects(p.genres).map((g) => g.id)),
    cast: distinct(objects(credits.cast).map((c) => c.credit_id)),
    crew: distinct(
      objects(credits.crew).filter((c) =>
        KEY_CREW_DEPARTMENTS.includes(text(c.department) ?? "") ||
        KEY_CREW_JOBS.includes(text(c.job) ?? "")
      ).map((c) => c.credit_id),
    ),
    videos: distinct(
      objects(part(p.videos).results).map((v) => keyText(v.id) || `${v.site}:${v.key}`),
    ),
    release_dates: distinct(releases),
  };
}

/** The stored work and child counts of each movie, by tmdb_id (one query). */
async function storedRows(sql: postgres.Sql, tmdbIds: number[]): Promise<Map<number, StoredRows>> {
  const rows = await sql`
    select w.tmdb_id, w.title, w.collection_id,
           cardinality(w.origin_country) as origin_country,
           jsonb_array_length(w.spoken_languages) as spoken_languages,
           jsonb_array_length(w.production_companies) as production_companies,
           jsonb_array_length(w.production_countries) as production_countries,
           jsonb_array_length(w.keywords) as keywords,
           (select count(*)::int from public.work_genres x where x.work_id = w.id) as genres,
           (select count(*)::int from public.work_cast x where x.work_id = w.id) as "cast",
           (select count(*)::int from public.work_crew x where x.work_id = w.id) as crew,
           (select count(*)::int from public.work_videos x where x.work_id = w.id) as videos,
           (select count(*)::int from public.work_release_dates x where x.work_id = w.id)
             as release_dates
      from public.works w
     where w.tmdb_id = any(${tmdbIds}::int[])`;
  return new Map(rows.map(({ tmdb_id, ...r }) => [tmdb_id as number, r as StoredRows]));
}

// ---------------------------------------------------------------------------------------
// Storing variants
// ---------------------------------------------------------------------------------------

/** One variant to store, with the id it is stored under. */
interface Case {
  tmdbId: number;
  label: string;
  payload: Json;
}

/** One stored case: its item, rows, own drift, and the drift of the call that stored it. */
interface Stored {
  item: StoredMovie;
  rows?: StoredRows;
  drift?: Drift;
  call: number;
  callDrift: Drift;
}

/** Concurrent `storeAnswers` calls when each stores one movie (the pool's size). */
const CONCURRENT_CALLS = 4;

/**
 * Stores the cases through the functions' store and reads back what was stored.
 * `"one per call"`: each movie in a call of its own (four at a time), so the call's drift
 * is that movie's drift. `"batched"`: `BATCH` movies per call, in order; each movie's own
 * drift (when `withDrift`) is what `tmdb_movie_drift` says of it, asked on a second
 * connection while the batch is stored.
 */
async function storeCases(
  sql: postgres.Sql,
  cases: Case[],
  runId: string,
  calls: "one per call" | "batched",
  withDrift = true,
): Promise<Stored[]> {
  const store = createPostgresCatalogStore(sql);
  const context = { runId, functionName: FUNCTION_NAME };
  const answer = (c: Case) => ({
    tmdb_id: c.tmdbId,
    status: 200 as const,
    body: JSON.stringify(c.payload),
  });
  const out: Stored[] = [];
  if (calls === "one per call") {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < cases.length; i = next++) {
        const { items: [item], drift } = await store.storeAnswers([answer(cases[i])], context);
        out[i] = { item, drift, call: i, callDrift: drift };
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_CALLS }, worker));
  } else {
    for (let i = 0; i < cases.length; i += BATCH) {
      const batch = cases.slice(i, i + BATCH);
      const [stored, drifts] = await Promise.all([
        store.storeAnswers(batch.map(answer), context),
        withDrift
          ? sql`
            select public.tmdb_movie_drift(p.value) as drift
              from jsonb_array_elements(${sql.json(batch.map((c) => c.payload))}::jsonb)
                   with ordinality p(value, ord)
             order by p.ord`
            .then((rows) => rows.map((r) => r.drift as Drift))
            // One refused payload refuses the batch: each movie's item then says which.
            .catch((e: Error) =>
              batch.map(() => ({ "(tmdb_movie_drift raised)": { [e.message]: 0 } }))
            )
          : Promise.resolve(null),
      ]);
      batch.forEach((_, j) =>
        out.push({ item: stored.items[j], drift: drifts?.[j], call: i, callDrift: stored.drift })
      );
    }
  }
  for (let i = 0; i < cases.length; i += BATCH) {
    const rows = await storedRows(sql, cases.slice(i, i + BATCH).map((c) => c.tmdbId));
    for (let j = i; j < Math.min(i + BATCH, cases.length); j++) {
      out[j].rows = rows.get(cases[j].tmdbId);
    }
  }
  return out;
}

/** Removes every synthetic movie, person and genre, and the drift this test recorded. */
async function removeSynthetic(sql: postgres.Sql): Promise<void> {
  await sql`delete from public.works where tmdb_id >= ${SYNTHETIC}`;
  await sql`delete from public.people where id >= ${SYNTHETIC}`;
  await sql`delete from public.genres where id >= ${SYNTHETIC}`;
  await sql`delete from public.tmdb_payload_drift where function_name = ${FUNCTION_NAME}`;
}

/** A variant ready to store: its movie id, and the base (with the same people) it came from. */
type VariantCase = Case & { variant: MutatedPayload; base: Json };

/**
 * The variants, each with its own movie id from `firstId` on and people and genres of its
 * own: the n-th case's have ids from `PRIVATE_PEOPLE + 100 n` (genres from + 60), in the
 * variant and in its base alike, so what one case does to them no other case can repair
 * or spoil.
 */
function numbered(
  variants: { base: { name: string; payload: Json }; variant: MutatedPayload }[],
  firstId: number,
): VariantCase[] {
  return variants.map(({ base, variant }, n) => {
    const tmdbId = firstId + n;
    const credits = (
      p: Json,
    ) => [...objects(part(p.credits).cast), ...objects(part(p.credits).crew)];
    const people = [...new Set(credits(base.payload).map((c) => c.id))];
    const genres = [...new Set(objects(base.payload.genres).map((g) => g.id))];
    assert.ok(people.length <= 60 && genres.length <= 40, "100 private ids per case");
    const own = (p: Json) => {
      for (const c of credits(p)) c.id = PRIVATE_PEOPLE + 100 * n + people.indexOf(c.id);
      for (const g of objects(p.genres)) {
        g.id = PRIVATE_PEOPLE + 100 * n + 60 + genres.indexOf(g.id);
      }
      return p;
    };
    const payload = own(variant.payload as Json);
    payload.id = tmdbId;
    return {
      tmdbId,
      label: `${base.name}: ${variant.label}`,
      payload,
      variant,
      base: own(structuredClone(base.payload)),
    };
  });
}

/** Whether every value a variant changed is defaulted (counted as drift), not replaced. */
function defaultsEveryValue(variant: MutatedPayload, fields: Map<string, Field>): boolean {
  const counted = Object.values(expectedDrift(variant, fields)).flatMap(Object.values);
  return counted.reduce((a, b) => a + b, 0) === variant.changed.length;
}

/** What the catalog says about each case's own people and genres, by case. */
async function sharedRows(sql: postgres.Sql, count: number): Promise<Record<string, unknown>[]> {
  const rows = await sql`
    select (p.id - ${PRIVATE_PEOPLE}) / 100 as n, 'person ' || p.id as key,
           jsonb_build_array(p.name, p.original_name, p.gender, p.known_for_department,
                             p.profile_path, p.popularity, p.adult) as value
      from public.people p where p.id >= ${PRIVATE_PEOPLE}
    union all
    select (g.id - ${PRIVATE_PEOPLE}) / 100, 'genre ' || g.id, jsonb_build_array(g.name)
      from public.genres g where g.id >= ${PRIVATE_PEOPLE}`;
  const byCase: Record<string, unknown>[] = Array.from({ length: count }, () => ({}));
  for (const r of rows) byCase[r.n][r.key] = r.value;
  return byCase;
}

/**
 * Writes what each case's base says about its people and genres, as rows already in the
 * catalog (what other movies said), in one statement: the values an intact person entry
 * stores (name, original_name, gender, known_for_department, profile_path, popularity,
 * adult), so only a changed value can change them.
 */
async function writeSharedRows(sql: postgres.Sql, cases: VariantCase[]): Promise<void> {
  const people = new Map<number, Json>();
  const genres = new Map<number, Json>();
  for (const c of cases) {
    for (const p of [...c.base.credits.cast, ...c.base.credits.crew]) people.set(p.id, p);
    for (const g of c.base.genres) genres.set(g.id, { id: g.id, name: g.name });
  }
  await sql`
    insert into public.people
      (id, name, original_name, gender, known_for_department, profile_path, popularity, adult)
    select id, name, original_name, gender, known_for_department, profile_path, popularity, adult
      from jsonb_to_recordset(${sql.json([...people.values()])}::jsonb) as x(
        id integer, name text, original_name text, gender smallint,
        known_for_department text, profile_path text, popularity numeric, adult boolean)`;
  await sql`
    insert into public.genres (id, name)
    select id, name from jsonb_to_recordset(${sql.json([...genres.values()])}::jsonb)
      as x(id integer, name text)`;
}

/**
 * Stores the variants and checks each one: inserted, its work columns and children exactly
 * as {@link expectedRows} says, its own drift exactly as {@link expectedDrift} says; each
 * call's drift is the sum of its movies'; and the run's rows of `tmdb_payload_drift` hold
 * the sum of them all, each with a movie that showed it as sample. Returns the problems
 * (one line each) and the drift of the run.
 */
async function checkStoredVariants(
  sql: postgres.Sql,
  cases: VariantCase[],
  runId: string,
  calls: "one per call" | "batched",
): Promise<{ problems: string[]; runDrift: Drift }> {
  const fields = await policyFields(sql);
  const expectedDrifts = cases.map((c) => expectedDrift(c.variant, fields));
  await writeSharedRows(sql, cases);
  const before = await sharedRows(sql, cases.length);
  const results = await storeCases(sql, cases, runId, calls);
  const problems: string[] = [];

  // A defaulted value never overwrites what another movie said about a person or genre (a
  // value the variant does send, such as a null retyped to "", may).
  const after = await sharedRows(sql, cases.length);
  cases.forEach((c, n) => {
    if (!defaultsEveryValue(c.variant, fields)) return;
    for (const key of new Set([...Object.keys(before[n]), ...Object.keys(after[n])])) {
      if (!isDeepStrictEqual(after[n][key], before[n][key])) {
        problems.push(
          `${c.label}: ${key} was ${JSON.stringify(before[n][key])}, ` +
            `is ${JSON.stringify(after[n][key])}`,
        );
      }
    }
  });
  cases.forEach((c, i) => {
    const { item, rows, drift } = results[i];
    const expected = {
      outcome: "inserted",
      rows: expectedRows(c.payload),
      drift: expectedDrifts[i],
    };
    const actual = { outcome: item.outcome, rows, drift };
    if (item.tmdb_id !== c.tmdbId || !isDeepStrictEqual(actual, expected)) {
      problems.push(
        `${c.label} (tmdb_id ${c.tmdbId}): expected ${JSON.stringify(expected)}, got ${
          JSON.stringify({ ...actual, item })
        }`,
      );
    }
  });
  const byCall = Map.groupBy(cases.keys(), (i) => results[i].call);
  for (const [call, members] of byCall) {
    const expected = sumDrift(members.map((i) => expectedDrifts[i]));
    if (!isDeepStrictEqual(results[call].callDrift, expected)) {
      problems.push(
        `the call storing ${members.map((i) => cases[i].tmdbId).join(", ")}: drift ` +
          `${JSON.stringify(results[call].callDrift)}, expected ${JSON.stringify(expected)}`,
      );
    }
  }

  const runDrift = sumDrift(expectedDrifts);
  const showedBy = new Map<string, number[]>();
  cases.forEach((c, i) => {
    for (const [path, kinds] of Object.entries(expectedDrifts[i])) {
      for (const kind of Object.keys(kinds)) {
        showedBy.set(`${path} ${kind}`, [...showedBy.get(`${path} ${kind}`) ?? [], c.tmdbId]);
      }
    }
  });
  const recorded = await sql`
    select path, kind, count, sample_tmdb_id from public.tmdb_payload_drift
     where run_id = ${runId}::uuid and function_name = ${FUNCTION_NAME}`;
  const recordedCounts: Drift = {};
  for (const r of recorded) {
    addDrift(recordedCounts, r.path, r.kind, r.count);
    if (!showedBy.get(`${r.path} ${r.kind}`)?.includes(r.sample_tmdb_id)) {
      problems.push(
        `tmdb_payload_drift ${r.path} ${r.kind}: sample ${r.sample_tmdb_id} did not show it`,
      );
    }
  }
  if (!isDeepStrictEqual(recordedCounts, runDrift)) {
    problems.push(
      `tmdb_payload_drift of the run: ${JSON.stringify(recordedCounts)}, expected ${
        JSON.stringify(runDrift)
      }`,
    );
  }
  return { problems, runDrift };
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

Deno.test({
  name: "ESSENTIAL_DETAIL_PATHS (stand-in, mutations) are exactly the essential fields of " +
    "public.tmdb_movie_fields()",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const essentialInSql = [...(await policyFields(sql)).values()]
        .filter((f) => f.essential).map((f) => f.path).sort();
      assert.deepEqual(essentialInSql, ESSENTIAL_DETAIL_PATHS.map(normalisePath).sort());
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "the base payloads have no drift and, together, every field of the policy",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const all = bases();
      for (const { name, payload } of all) {
        const json = sql.json(payload);
        const [{ drift }] = await sql`select public.tmdb_movie_drift(${json}) as drift`;
        assert.deepEqual(drift, {}, `${name} payload`);
      }
      const covered = new Set(all.flatMap(({ payload }) => keyPaths(payload)));
      const fields = [...(await policyFields(sql)).keys()];
      assert.deepEqual(fields.filter((f) => !covered.has(f)), []);
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "every single drop, null or retype of a non-essential field stores the movie, its " +
    "children and exactly the drift it made, for the movie and for the run; a defaulted value " +
    "never overwrites what the catalog says about a shared person or genre",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const runId = crypto.randomUUID();
    try {
      await removeSynthetic(sql);
      const variants = bases().flatMap((base) =>
        [...singleMutations(base.payload)].map((variant) => ({ base, variant }))
      );
      const cases = numbered(variants, SINGLE_IDS);
      const { problems, runDrift } = await checkStoredVariants(sql, cases, runId, "one per call");
      assert.deepEqual(problems, []);
      // Straight from the policy's rows: every non-essential field was seen of the wrong
      // type, missing unless optional, and null unless nullable.
      const seen = Object.fromEntries(
        Object.entries(runDrift).map(([path, kinds]) => [path, Object.keys(kinds).sort()]),
      );
      const policy = Object.fromEntries(
        [...(await policyFields(sql)).values()].filter((f) => !f.essential).map((f) => [
          f.path,
          [...(f.optional ? [] : ["missing"]), ...(f.nullable ? [] : ["null"]), "wrong_type"],
        ]),
      );
      assert.deepEqual(seen, policy);
    } finally {
      await removeSynthetic(sql);
      await sql.end();
    }
  },
});

Deno.test({
  name: "seeded random combinations of 2–6 non-essential mutations are all stored with their " +
    "children and exactly their drift, and never overwrite a shared person or genre with a " +
    "default",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const runId = crypto.randomUUID();
    try {
      await removeSynthetic(sql);
      const variants = bases().flatMap((base, b) =>
        [2, 3, 4, 5, 6].flatMap((k) =>
          [...randomMutations(base.payload, { seed: 1000 * b + k, k, count: 20 })]
            .map((variant) => ({ base, variant }))
        )
      );
      assert.equal(variants.length, 200);
      const cases = numbered(variants, RANDOM_IDS);
      const { problems } = await checkStoredVariants(sql, cases, runId, "one per call");
      assert.deepEqual(problems, []);
    } finally {
      await removeSynthetic(sql);
      await sql.end();
    }
  },
});

/** A value set at a normalised path: every occurrence, or only the first. */
interface EdgeValue {
  path: string;
  value: unknown;
  first?: boolean;
}

/** Concrete paths of the values at a normalised path (`a[].b` → `a[0].b`, `a[1].b`, …). */
function concretePaths(payload: Json, path: string): string[] {
  const out: string[] = [];
  const walk = (node: Json, tokens: string[], at: string) => {
    const [token, ...rest] = tokens;
    if (token === undefined) out.push(at);
    else if (token === "[]") {
      if (Array.isArray(node)) node.forEach((x, i) => walk(x, rest, `${at}[${i}]`));
    } else if (isObject(node) && Object.hasOwn(node, token)) {
      walk(node[token], rest, at === "" ? token : `${at}.${token}`);
    }
  };
  walk(payload, path.match(/[^.[\]]+|\[\]/g) ?? [], "");
  return out;
}

/** `payload` with `edge.value` set, as a variant {@link expectedDrift} can read. */
function edgeVariant(payload: Json, edge: EdgeValue): MutatedPayload {
  const copy = structuredClone(payload);
  const changed = concretePaths(copy, edge.path).slice(0, edge.first ? 1 : undefined);
  assert.ok(changed.length > 0, `the base has ${edge.path}`);
  for (const concrete of changed) setAt(copy, concrete, structuredClone(edge.value));
  const value = JSON.stringify(edge.value);
  return {
    mutations: [],
    label: `${edge.path} = ${value.length > 40 ? `${value.slice(0, 37)}…"` : value}` +
      (edge.first ? " (first)" : ""),
    changed,
    payload: copy,
  };
}

/**
 * Values of the field's JSON type, or a string, at the edges of what the policy accepts:
 * whole numbers vs fractions and 2^53, numbers that are whole, dates that do not exist,
 * timestamps for dates, "" where TMDB sends it.
 */
const EDGE_VALUES: EdgeValue[] = [
  { path: "vote_count", value: 12.5 },
  { path: "vote_count", value: 2 ** 31 },
  { path: "runtime", value: 2 ** 31 - 1 },
  { path: "budget", value: 2 ** 53 },
  { path: "revenue", value: 2 ** 53 - 1 },
  { path: "credits.cast[].gender", value: 40000, first: true },
  { path: "credits.crew[].gender", value: -32768, first: true },
  { path: "videos.results[].published_at", value: "2020-01-01T00:00:00+99:00", first: true },
  {
    path: "release_dates.results[].release_dates[].release_date",
    value: "2020-01-01T00:00:00+99:00",
    first: true,
  },
  { path: "release_dates.results[].release_dates[].note", value: "n".repeat(256), first: true },
  { path: "release_dates.results[].release_dates[].note", value: "é".repeat(255), first: true },
  { path: "videos.results[].id", value: "v".repeat(3000), first: true },
  { path: "popularity", value: 2 },
  { path: "credits.cast[].order", value: 1.5 },
  { path: "release_date", value: "2001-02-03T00:00:00Z" },
  { path: "release_date", value: "2023-02-30" },
  { path: "videos.results[].published_at", value: "" },
  { path: "videos.results[].published_at", value: "2023-02-30T10:00:00Z" },
  { path: "release_dates.results[].release_dates[].release_date", value: "" },
  { path: "videos.results[].id", value: "" },
  { path: "credits.crew[].department", value: "" },
  { path: "genres[].name", value: "" },
];

Deno.test({
  name: 'edge values of a non-essential field (fractions, 2^53, days that do not exist, "") ' +
    "are stored with their children and counted by the same rules, per movie and per call",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const runId = crypto.randomUUID();
    try {
      await removeSynthetic(sql);
      const variants = bases().flatMap((base) =>
        EDGE_VALUES.map((edge) => ({ base, variant: edgeVariant(base.payload, edge) }))
      );
      const cases = numbered(variants, EDGE_IDS);
      const { problems } = await checkStoredVariants(sql, cases, runId, "batched");
      assert.deepEqual(problems, []);
    } finally {
      await removeSynthetic(sql);
      await sql.end();
    }
  },
});

/** An essential variant: its mutations, the concrete path broken, and how the error says it. */
interface EssentialCase {
  base: string;
  label: string;
  /** Applied to the base (with the movie's id) at the first occurrence. */
  mutations: Mutation[];
  /** Or a value set at `path`. */
  value?: unknown;
  path: string;
  /** The error's word for it: missing, null, of the wrong type, empty, out of range. */
  says: string;
}

/** Unusable essential values the mutations do not make: empty strings, ids and types out of range. */
const UNUSABLE_VALUES: { path: string; value: unknown; says: string }[] = [
  { path: "genres[1].id", value: 0, says: "out of range" },
  { path: "genres[0].id", value: 18.5, says: "of the wrong type" },
  { path: "credits.cast[1].id", value: -5, says: "out of range" },
  { path: "credits.crew[0].id", value: 2147483648, says: "out of range" },
  { path: "credits.cast[0].credit_id", value: "", says: "empty" },
  { path: "credits.crew[1].credit_id", value: "  ", says: "empty" },
  { path: "videos.results[1].key", value: "", says: "empty" },
  { path: "videos.results[0].site", value: " ", says: "empty" },
  { path: "release_dates.results[1].iso_3166_1", value: "", says: "empty" },
  { path: "release_dates.results[0].release_dates[1].type", value: 0, says: "out of range" },
  { path: "release_dates.results[1].release_dates[0].type", value: 7, says: "out of range" },
];

/** Sets `value` at a concrete path of `payload` (in place). */
function setAt(payload: Json, concrete: string, value: unknown): void {
  const tokens = (concrete.match(/[^.[\]]+|\[\d+\]/g) ?? [])
    .map((t) => t.startsWith("[") ? Number(t.slice(1, -1)) : t);
  const last = tokens.pop()!;
  let node = payload;
  for (const t of tokens) node = node[t];
  assert.ok(Object.hasOwn(node, last), `${concrete} exists`);
  node[last] = value;
}

function essentialCases(base: string, payload: Json): EssentialCase[] {
  const says = (m: Mutation) =>
    m.kind === "drop" ? "missing" : m.kind === "null" ? "null" : "of the wrong type";
  const cases: EssentialCase[] = [...essentialMutations(payload)].map((v) => ({
    base,
    label: v.label,
    mutations: v.mutations,
    path: v.changed[0],
    says: says(v.mutations[0]),
  }));
  for (const path of ESSENTIAL_DETAIL_PATHS) {
    for (const to of RETYPE_TARGETS) {
      const m: Mutation = { path, kind: "retype", to, essential: true };
      const v = applyMutations(payload, [m], { occurrences: "first" });
      if (v) {
        cases.push({ base, label: v.label, mutations: [m], path: v.changed[0], says: says(m) });
      }
    }
  }
  for (const u of UNUSABLE_VALUES) {
    cases.push({ base, label: `${u.path} = ${JSON.stringify(u.value)}`, mutations: [], ...u });
  }
  return cases;
}

Deno.test({
  name: "an unusable essential field fails only its movie, naming the indexed path; nothing of " +
    "it is written and the rest of the batch is stored",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const runId = crypto.randomUUID();
    try {
      await removeSynthetic(sql);
      const valid = bases();
      const failing = bases(FAILING_PEOPLE);
      const specs = failing.flatMap(({ name, payload }) => essentialCases(name, payload));
      // Each failing movie also lacks its tagline: were its drift counted, it would show.
      const tagline: Mutation = { path: "tagline", kind: "drop", essential: false };
      const cases: (Case & { spec?: EssentialCase })[] = [];
      specs.forEach((spec, i) => {
        // A valid movie before every third failing one: each call of 50 has 16 or 17.
        if (i % 3 === 0) {
          const good = valid[(i / 3) % valid.length];
          const goodId = ESSENTIAL_IDS + 2 * i;
          cases.push({ tmdbId: goodId, label: `${good.name}: valid`, payload: good.payload });
        }
        const tmdbId = ESSENTIAL_IDS + 2 * i + 1;
        const base = failing.find((b) => b.name === spec.base)!.payload;
        const v = applyMutations({ ...base, id: tmdbId }, [...spec.mutations, tagline], {
          occurrences: "first",
        })!;
        if (spec.value !== undefined) setAt(v.payload, spec.path, spec.value);
        cases.push({ tmdbId, label: `${spec.base}: ${spec.label}`, payload: v.payload, spec });
      });
      for (const c of cases) if (!c.spec) c.payload = { ...c.payload, id: c.tmdbId };
      assert.ok(specs.length >= 2 * 2 * ESSENTIAL_DETAIL_PATHS.length, `${specs.length} cases`);

      const results = await storeCases(sql, cases, runId, "batched", false);
      const problems: string[] = [];
      cases.forEach((c, i) => {
        const { item, rows, callDrift } = results[i];
        let expected: unknown;
        let actual: unknown;
        if (c.spec === undefined) {
          expected = {
            outcome: "inserted",
            kind: undefined,
            error: undefined,
            rows: expectedRows(c.payload),
            callDrift: {},
          };
          actual = { outcome: item.outcome, kind: item.kind, error: item.error, rows, callDrift };
        } else if (c.spec.path === "id") {
          // The movie's id is checked against the id asked for before the policy runs.
          const sent = valueAt(c.payload, "id");
          expected = {
            outcome: "failed",
            kind: "invalid_response",
            error: `TMDB answered movie ${
              sent === undefined || sent === null
                ? "without id"
                : typeof sent === "object"
                ? JSON.stringify(sent).replaceAll(":", ": ")
                : String(sent)
            } when asked for ${c.tmdbId}; not stored`,
            rows: undefined,
          };
          actual = { outcome: item.outcome, kind: item.kind, error: item.error, rows };
        } else {
          expected = {
            outcome: "failed",
            kind: "invalid_response",
            error: `ingest_movie: ${c.spec.path} is ${c.spec.says}: the row cannot exist ` +
              `without it (tmdb_id ${c.tmdbId})`,
            rows: undefined,
          };
          actual = { outcome: item.outcome, kind: item.kind, error: item.error, rows };
        }
        if (item.tmdb_id !== c.tmdbId || !isDeepStrictEqual(actual, expected)) {
          problems.push(
            `${c.label} (tmdb_id ${c.tmdbId}): expected ${JSON.stringify(expected)}, got ${
              JSON.stringify(actual)
            }`,
          );
        }
      });
      assert.deepEqual(problems, []);

      // Nothing of a failing movie was written: no work, people, genres or drift.
      const [leaks] = await sql`
        select (select count(*)::int from public.works
                 where tmdb_id = any(${cases.filter((c) => c.spec).map((c) => c.tmdbId)}::int[]))
                 as works,
               (select count(*)::int from public.people
                 where id between ${FAILING_PEOPLE} and ${PRIVATE_PEOPLE - 1}) as people,
               (select count(*)::int from public.genres
                 where id between ${FAILING_PEOPLE} and ${PRIVATE_PEOPLE - 1}) as genres,
               (select count(*)::int from public.tmdb_payload_drift where run_id = ${runId}::uuid)
                 as drift`;
      assert.deepEqual({ ...leaks }, { works: 0, people: 0, genres: 0, drift: 0 });
    } finally {
      await removeSynthetic(sql);
      await sql.end();
    }
  },
});

Deno.test({
  name: "a person's adult survives a payload that drops, nulls or retypes it",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const runId = crypto.randomUUID();
    try {
      await removeSynthetic(sql);
      const base = { name: "hand-written, adult people", payload: bases()[1].payload };
      for (const c of [...base.payload.credits.cast, ...base.payload.credits.crew]) {
        c.adult = true;
      }
      const variants = [...singleMutations(base.payload)]
        .filter((v) => /^credits\.(cast|crew)\[\]\.adult$/.test(v.mutations[0].path))
        .map((variant) => ({ base, variant }));
      assert.ok(variants.length >= 6, `${variants.length} variants`);
      const cases = numbered(variants, ADULT_IDS);
      const { problems } = await checkStoredVariants(sql, cases, runId, "batched");
      assert.deepEqual(problems, []);
    } finally {
      await removeSynthetic(sql);
      await sql.end();
    }
  },
});
