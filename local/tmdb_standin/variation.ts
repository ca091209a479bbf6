/**
 * Variation: the stand-in's payloads vary the way real TMDB's do. The catalog builds tidy
 * payloads; this layer, applied by the server to what it serves, leaves fields out, sends
 * `null`, `""`, `0`, wrong types, empty parts, duplicate credits, other video sites, very
 * long and non-Latin strings, and unknown extra fields, each kind at the rate in
 * {@link VARIATIONS}.
 *
 * Deterministic: the kinds a movie gets depend only on (seed, movie id) — see
 * {@link variationsOf} — and how each is applied only on (seed, movie id, the catalog's
 * payload), which changes only at the movie's change instants. So the same movie at the same
 * simulated time is served byte-identically, and a varied movie stays varied the same way.
 * The essential fields of `mutations.ts` (`ESSENTIAL_DETAIL_PATHS`, list and changes page
 * paths) are never removed, nulled or retyped.
 *
 * @module
 */

import type { Catalog } from "./catalog.ts";
import { hash4, Rng, unit4 } from "./random.ts";
import { NATIVE_TITLE_WORDS, OVERVIEW_SENTENCES, TITLE_NOUNS } from "./words.ts";

/** Payloads a variation kind changes. */
export type VariationTarget = "details" | "list" | "changes" | "page";

/** One kind of variation and how often it is drawn. */
export interface VariationSpec {
  /** Name, e.g. `release_note_missing`. */
  readonly kind: string;
  /** Probability of being drawn: per movie, or per page for `per: "page"`. */
  readonly rate: number;
  /** Drawn once per movie (every payload of that movie) or once per list/changes page. */
  readonly per: "movie" | "page";
  /** The payloads it changes: details, list items, changes items, page envelopes. */
  readonly shows: readonly VariationTarget[];
  /** What it does. */
  readonly does: string;
}

/**
 * Every variation kind, in the order they are applied, with its rate. Drawn independently
 * per movie, so a movie may get several; about 52 % of movies get none. A kind drawn for a
 * movie changes a payload only where that payload has its target (e.g.
 * `video_site_other` needs videos); {@link varyDetails} reports what it changed.
 */
export const VARIATIONS = [
  {
    kind: "imdb_id_null",
    rate: 0.02,
    per: "movie",
    shows: ["details"],
    does: "`imdb_id` and `external_ids.imdb_id` are null (on top of the catalog's own ~6 %)",
  },
  {
    kind: "runtime_zero",
    rate: 0.02,
    per: "movie",
    shows: ["details"],
    does: "`runtime` is 0 (on top of the catalog's own ~5 %)",
  },
  {
    kind: "release_date_empty",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: '`release_date` is `""` whatever the status',
  },
  {
    kind: "title_empty",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: '`title` is `""`',
  },
  {
    kind: "title_non_latin",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: "`title` is in another script: Japanese, Chinese, Korean, Cyrillic, Arabic, " +
      "Devanagari, Thai, Hebrew, Greek or Georgian",
  },
  {
    kind: "long_text",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: "`overview` is 10,000–20,000 characters; half the time `tagline` is 2,000–5,000",
  },
  {
    kind: "numbers_null",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: "1–3 of `vote_average`, `vote_count`, `popularity`, `budget`, `revenue`, " +
      "`runtime` are null",
  },
  {
    kind: "strings_null",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: "1–3 of `tagline`, `homepage`, `overview`, `original_title`, " +
      "`original_language`, `status`, `title`, `release_date` are null",
  },
  {
    kind: "strings_empty",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does:
      '1–3 of `tagline`, `homepage`, `overview`, `original_title`, `original_language`, `status` are `""`',
  },
  {
    kind: "fields_missing",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: "1–3 top-level fields are left out (any but `id` and the appended parts, e.g. " +
      "`tagline`, `homepage`, `origin_country`, `belongs_to_collection`, `title`)",
  },
  {
    kind: "wrong_types",
    rate: 0.01,
    per: "movie",
    shows: ["details", "list"],
    does: "1–2 of: `runtime`, `adult`, `popularity`, `budget` or `vote_average` as a string " +
      '(`"120"`, `"false"`), `vote_count` a fraction (`12.5`), `video: 0`, `genres: null`, ' +
      '`origin_country` a string (`"US"`), `spoken_languages: {}`',
  },
  {
    kind: "empty_parts",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "1–2 of `credits.cast`, `credits.crew`, `videos.results`, `keywords.keywords`, " +
      "`release_dates.results` are `[]`",
  },
  {
    kind: "duplicate_credit",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "a cast credit is listed twice in a row (same `credit_id`); a third of the time " +
      "a crew credit too (crew only when the cast is empty)",
  },
  {
    kind: "person_fields_missing",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "~20 % of cast and crew entries (at least one) lack 1–2 of `profile_path`, " +
      "`known_for_department`, `character`, `order`, `cast_id`, `gender`, `popularity`, " +
      "`name`, `original_name`, `adult`, `department`, `job`",
  },
  {
    kind: "person_fields_null",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "as `person_fields_missing`, but the fields are null",
  },
  {
    kind: "video_site_other",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "~half the videos (at least one) are on Vimeo (numeric `key`) or, one time in " +
      "five, Dailymotion or Bilibili",
  },
  {
    kind: "video_fields_varied",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "~30 % of videos (at least one) lack or have null 1–2 of `id`, `name`, `type`, " +
      "`official`, `published_at`, `size`, `iso_639_1`, `iso_3166_1`",
  },
  {
    kind: "release_entry_fields_varied",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "~40 % of release entries (at least one): `certification`, `iso_639_1` or " +
      "`release_date` missing or null, `note` null, or `descriptors` filled",
  },
  {
    kind: "release_note_missing",
    rate: 0.3,
    per: "movie",
    shows: ["details"],
    does: "no release entry has `note`",
  },
  {
    kind: "descriptors_missing",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "no release entry has `descriptors` (as before TMDB added them in 2023)",
  },
  {
    kind: "name_missing",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "a genre's and/or a keyword's `name` is missing, null or `\"\"`",
  },
  {
    kind: "external_ids_varied",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: '1–3 `external_ids` fields are missing, null or `""`',
  },
  {
    kind: "nested_fields_missing",
    rate: 0.01,
    per: "movie",
    shows: ["details"],
    does: "an entry of 1–2 of `production_companies`, `production_countries`, " +
      "`spoken_languages`, `belongs_to_collection` lacks a field",
  },
  {
    kind: "unknown_fields",
    rate: 0.02,
    per: "movie",
    shows: ["details", "list", "changes"],
    does: "unknown extra fields (string, number, boolean, null, object or array): at the top, " +
      "in every appended part and the first entry of every list of objects, in ~10 % of the " +
      "other objects; one on the movie's list and changes items",
  },
  {
    kind: "list_item_fields_missing",
    rate: 0.02,
    per: "movie",
    shows: ["list"],
    does: "the movie's list items lack 1–3 of `title`, `original_title`, `overview`, " +
      "`release_date`, `poster_path`, `backdrop_path`, `genre_ids`, `vote_average`, " +
      "`vote_count`, `popularity`, `adult`, `video`, `original_language`, `media_type`",
  },
  {
    kind: "changes_adult_null",
    rate: 0.02,
    per: "movie",
    shows: ["changes"],
    does: "the movie's `/movie/changes` items have `adult: null`",
  },
  {
    kind: "page_unknown_fields",
    rate: 0.1,
    per: "page",
    shows: ["page"],
    does: "a list or changes page envelope has an unknown extra field",
  },
] as const satisfies readonly VariationSpec[];

/** One of the kinds of {@link VARIATIONS}. */
export type VariationKind = (typeof VARIATIONS)[number]["kind"];

/** Options of the variation functions. */
export interface VariationOptions {
  /** Variation seed (default 1; the server uses its catalog's seed). */
  seed?: number;
}

/** A varied payload and the kinds that changed it. */
export interface Varied<T> {
  /** The payload to serve (the input itself when nothing changed it, else a copy). */
  body: T;
  /** Kinds that changed something, in {@link VARIATIONS} order. */
  applied: VariationKind[];
}

type JsonObject = Record<string, unknown>;

const DEFAULT_VARIATION_SEED = 1;
/** Hash salts (the catalog's own salts are below 100). */
const SALT = { draw: 0x5641, plan: 0x5642, nested: 0x5643, list: 0x5644, page: 0x5645 } as const;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** FNV-1a of a string: a stable salt per kind, whatever the table order. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const KIND_SALT = new Map<string, number>(VARIATIONS.map((v) => [v.kind, fnv1a(v.kind)]));

function rngFor(seed: number, id: number, kind: VariationKind, stage: number): Rng {
  return new Rng(hash4(seed, id, KIND_SALT.get(kind)!, stage));
}

function seedOf(options: VariationOptions): number {
  const seed = options.seed ?? DEFAULT_VARIATION_SEED;
  if (!Number.isInteger(seed)) {
    throw new Error(`variation seed must be an integer: current value is ${seed}`);
  }
  return seed >>> 0;
}

/** The spec of a kind. */
export function variationSpec(kind: VariationKind): VariationSpec {
  const spec = VARIATIONS.find((v) => v.kind === kind);
  if (!spec) throw new Error(`unknown variation kind: ${JSON.stringify(kind)}`);
  return spec;
}

/**
 * The per-movie kinds drawn for a movie (each independently at its rate), in
 * {@link VARIATIONS} order. Depends only on `(seed, id)`: the same at every simulated time.
 */
export function variationsOf(id: number, options: VariationOptions = {}): VariationKind[] {
  const seed = seedOf(options);
  const out: VariationKind[] = [];
  for (const v of VARIATIONS) {
    if (v.per !== "movie") continue;
    if (unit4(seed, id, KIND_SALT.get(v.kind)!, SALT.draw) < v.rate) out.push(v.kind);
  }
  return out;
}

/** The per-page kinds drawn for page `page` of `endpoint` (e.g. `/movie/popular`). */
export function pageVariationsOf(
  endpoint: string,
  page: number,
  options: VariationOptions = {},
): VariationKind[] {
  const seed = seedOf(options);
  const out: VariationKind[] = [];
  for (const v of VARIATIONS) {
    if (v.per !== "page") continue;
    if (unit4(seed, fnv1a(endpoint), page, SALT.page ^ KIND_SALT.get(v.kind)!) < v.rate) {
      out.push(v.kind);
    }
  }
  return out;
}

// -------------------------------------------------------------------------------------------
// Values
// -------------------------------------------------------------------------------------------

/** Title words per script (CJK, Hangul, Cyrillic, Arabic, Devanagari from words.ts). */
const NON_LATIN: readonly { script: string; words: readonly string[]; joiner: string }[] = [
  { script: "japanese", words: NATIVE_TITLE_WORDS.ja, joiner: "の" },
  { script: "chinese", words: NATIVE_TITLE_WORDS.zh, joiner: "" },
  { script: "korean", words: NATIVE_TITLE_WORDS.ko, joiner: " " },
  { script: "cyrillic", words: NATIVE_TITLE_WORDS.ru, joiner: " " },
  { script: "arabic", words: NATIVE_TITLE_WORDS.ar, joiner: " " },
  { script: "devanagari", words: NATIVE_TITLE_WORDS.hi, joiner: " " },
  { script: "thai", words: ["คืน", "ทะเล", "ความรัก", "เมือง", "ฝน", "บ้าน"], joiner: "" },
  { script: "hebrew", words: ["לילה", "הים", "אהבה", "העיר", "הדרך", "בית"], joiner: " " },
  { script: "greek", words: ["Νύχτα", "Θάλασσα", "Αγάπη", "Πόλη", "Δρόμος"], joiner: " " },
  { script: "georgian", words: ["ღამე", "ზღვა", "სიყვარული", "ქალაქი", "გზა"], joiner: " " },
];

function nonLatinTitle(rng: Rng): string {
  const { words, joiner } = rng.pick(NON_LATIN);
  const n = rng.range(1, 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(rng.pick(words));
  return parts.join(joiner);
}

/** Text of `min`..`max` characters (BMP only, so any cut keeps it well-formed). */
function longText(rng: Rng, min: number, max: number): string {
  const target = rng.range(min, max);
  let text = "";
  while (text.length < target) {
    const sentence = rng.chance(0.15) ? nonLatinTitle(rng) + "." : rng.pick(OVERVIEW_SENTENCES)
      .replace("{t}", rng.pick(TITLE_NOUNS))
      .replace("{n}", rng.pick(TITLE_NOUNS).toLowerCase())
      .replace("{p}", rng.pick(TITLE_NOUNS).toLowerCase());
    text += (text === "" ? "" : " ") + sentence;
  }
  return text.slice(0, target);
}

const UNKNOWN_KEYS = [
  "translations_count",
  "certification_source",
  "original_name_latin",
  "rating_region",
  "external_score",
  "last_verified_at",
  "watch_region",
  "is_locked",
  "editorial_flags",
  "source_batch",
];

function unknownValue(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0:
      return rng.pick(["beta", "", "x-ray", "審査中"]);
    case 1:
      return rng.chance(0.5) ? rng.int(1000) : Math.round(rng.next() * 1e6) / 1e3;
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return { source: "tmdb", since: 2000 + rng.int(30), tags: [] };
    default:
      return rng.chance(0.5) ? [] : ["a", 1, null];
  }
}

function addUnknownField(target: JsonObject, rng: Rng): void {
  let key = rng.pick(UNKNOWN_KEYS);
  while (Object.hasOwn(target, key)) key += "_2";
  target[key] = unknownValue(rng);
}

/** Picks up to `n` distinct items (order of the draw). */
function pickSome<T>(rng: Rng, items: readonly T[], n: number): T[] {
  const pool = items.slice();
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0]);
  return out;
}

/** Each item with probability `p`, at least one (none when `items` is empty). */
function someOf<T>(rng: Rng, items: readonly T[], p: number): T[] {
  const chosen = items.filter(() => rng.chance(p));
  if (chosen.length === 0 && items.length > 0) chosen.push(items[rng.int(items.length)]);
  return chosen;
}

// -------------------------------------------------------------------------------------------
// Top-level plan (details and list items share it, so they agree)
// -------------------------------------------------------------------------------------------

type TopOp =
  & { kind: VariationKind; field: string }
  & ({ action: "drop" } | { action: "set"; value: unknown } | {
    action: "map";
    map: (value: unknown) => unknown;
  });

const STRING_FIELDS_NULL = [
  "tagline",
  "homepage",
  "overview",
  "original_title",
  "original_language",
  "status",
  "title",
  "release_date",
];
const STRING_FIELDS_EMPTY = [
  "tagline",
  "homepage",
  "overview",
  "original_title",
  "original_language",
  "status",
];
const NUMBER_FIELDS = ["vote_average", "vote_count", "popularity", "budget", "revenue", "runtime"];
const DROPPABLE_TOP = [
  "adult",
  "backdrop_path",
  "belongs_to_collection",
  "budget",
  "genres",
  "homepage",
  "imdb_id",
  "origin_country",
  "original_language",
  "original_title",
  "overview",
  "popularity",
  "poster_path",
  "production_companies",
  "production_countries",
  "release_date",
  "revenue",
  "runtime",
  "spoken_languages",
  "status",
  "tagline",
  "title",
  "video",
  "vote_average",
  "vote_count",
];
const RETYPES: Record<string, (value: unknown) => unknown> = {
  runtime: (v) => (v === null ? "" : String(v)),
  adult: (v) => String(v),
  vote_count: (v) => (typeof v === "number" ? v + 0.5 : 12.5),
  genres: () => null,
  popularity: (v) => String(v),
  budget: (v) => String(v),
  video: (v) => (v ? 1 : 0),
  origin_country: (v) => (Array.isArray(v) ? v.join(",") : String(v)),
  spoken_languages: () => ({}),
  vote_average: (v) => String(v),
};

/** The top-level edits of a movie: a pure function of (seed, id, drawn kinds). */
function topLevelPlan(id: number, seed: number, kinds: ReadonlySet<VariationKind>): TopOp[] {
  const ops: TopOp[] = [];
  const touched = new Set<string>();
  const free = (fields: readonly string[]) => fields.filter((f) => !touched.has(f));
  const add = (op: TopOp) => {
    touched.add(op.field);
    ops.push(op);
  };
  const setOne = (kind: VariationKind, field: string, value: unknown) => {
    if (!touched.has(field)) add({ kind, field, action: "set", value });
  };
  for (const { kind } of VARIATIONS) {
    if (!kinds.has(kind)) continue;
    const rng = rngFor(seed, id, kind, SALT.plan);
    switch (kind) {
      case "imdb_id_null":
        setOne(kind, "imdb_id", null);
        break;
      case "runtime_zero":
        setOne(kind, "runtime", 0);
        break;
      case "release_date_empty":
        setOne(kind, "release_date", "");
        break;
      case "title_empty":
        setOne(kind, "title", "");
        break;
      case "title_non_latin":
        setOne(kind, "title", nonLatinTitle(rng));
        break;
      case "long_text":
        setOne(kind, "overview", longText(rng, 10_000, 20_000));
        if (rng.chance(0.5)) setOne(kind, "tagline", longText(rng, 2_000, 5_000));
        break;
      case "numbers_null":
        for (const f of pickSome(rng, free(NUMBER_FIELDS), rng.range(1, 3))) setOne(kind, f, null);
        break;
      case "strings_null":
        for (const f of pickSome(rng, free(STRING_FIELDS_NULL), rng.range(1, 3))) {
          setOne(kind, f, null);
        }
        break;
      case "strings_empty":
        for (const f of pickSome(rng, free(STRING_FIELDS_EMPTY), rng.range(1, 3))) {
          setOne(kind, f, "");
        }
        break;
      case "fields_missing":
        for (const f of pickSome(rng, free(DROPPABLE_TOP), rng.range(1, 3))) {
          add({ kind, field: f, action: "drop" });
        }
        break;
      case "wrong_types":
        for (const f of pickSome(rng, free(Object.keys(RETYPES)), rng.range(1, 2))) {
          add({ kind, field: f, action: "map", map: RETYPES[f] });
        }
        break;
      default:
        break;
    }
  }
  return ops;
}

/** Applies one top-level edit where the field exists; returns whether it changed anything. */
function applyTopOp(target: JsonObject, op: TopOp): boolean {
  if (!Object.hasOwn(target, op.field)) return false;
  const before = target[op.field];
  if (op.action === "drop") {
    delete target[op.field];
    return true;
  }
  const after = op.action === "set" ? op.value : op.map(before);
  target[op.field] = after;
  return !Object.is(before, after);
}

// -------------------------------------------------------------------------------------------
// Details: nested kinds
// -------------------------------------------------------------------------------------------

const CAST_FIELDS = [
  "adult",
  "gender",
  "known_for_department",
  "name",
  "original_name",
  "popularity",
  "profile_path",
  "cast_id",
  "character",
  "order",
];
const CREW_FIELDS = [
  "adult",
  "gender",
  "known_for_department",
  "name",
  "original_name",
  "popularity",
  "profile_path",
  "department",
  "job",
];
const VIDEO_FIELDS = [
  "id",
  "iso_639_1",
  "iso_3166_1",
  "name",
  "size",
  "type",
  "official",
  "published_at",
];
const DESCRIPTORS = [["Violence"], ["Language", "Sexual Content"], ["Drug Use"], ["Fear"]];
const APPENDED_PARTS = new Set([
  "credits",
  "videos",
  "release_dates",
  "external_ids",
  "keywords",
  "images",
  "alternative_titles",
]);

/** Drops (or nulls) 1–2 of `fields` present on `entry`; returns whether anything changed. */
function removeFields(
  rng: Rng,
  entry: JsonObject,
  fields: readonly string[],
  mode: "drop" | "null",
) {
  const present = fields.filter((f) =>
    Object.hasOwn(entry, f) && !(mode === "null" && entry[f] === null)
  );
  let changed = false;
  for (const f of pickSome(rng, present, rng.range(1, 2))) {
    if (mode === "drop") delete entry[f];
    else entry[f] = null;
    changed = true;
  }
  return changed;
}

/** `value` dropped, nulled or emptied (one of the three, drawn); returns whether it changed. */
function blank(rng: Rng, entry: JsonObject, field: string): boolean {
  if (!Object.hasOwn(entry, field)) return false;
  const before = entry[field];
  const how = rng.int(3);
  if (how === 0) {
    delete entry[field];
    return true;
  }
  entry[field] = how === 1 ? null : "";
  return !Object.is(before, entry[field]);
}

function releaseEntries(body: JsonObject): JsonObject[] {
  const rd = body.release_dates;
  if (!isObject(rd)) return [];
  return objects(rd.results).flatMap((country) => objects(country.release_dates));
}

function people(body: JsonObject): { entry: JsonObject; fields: readonly string[] }[] {
  const credits = body.credits;
  if (!isObject(credits)) return [];
  return [
    ...objects(credits.cast).map((entry) => ({ entry, fields: CAST_FIELDS })),
    ...objects(credits.crew).map((entry) => ({ entry, fields: CREW_FIELDS })),
  ];
}

function listAt(body: JsonObject, part: string, key: string): unknown[] | null {
  const holder = body[part];
  if (!isObject(holder) || !Array.isArray(holder[key])) return null;
  return holder[key] as unknown[];
}

/** Adds unknown fields at every level: see the `unknown_fields` row of {@link VARIATIONS}. */
function sprinkleUnknown(body: JsonObject, rng: Rng): void {
  const visit = (node: unknown, always: boolean) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, i === 0));
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (isObject(value) || Array.isArray(value)) visit(value, APPENDED_PARTS.has(key));
    }
    if (always || rng.chance(0.1)) addUnknownField(node, rng);
  };
  for (const [key, value] of Object.entries(body)) {
    if (isObject(value) || Array.isArray(value)) visit(value, APPENDED_PARTS.has(key));
  }
  addUnknownField(body, rng);
}

/** Nested kinds: each changes `body` in place and returns whether it changed anything. */
const NESTED: Partial<Record<VariationKind, (body: JsonObject, rng: Rng) => boolean>> = {
  imdb_id_null: (body) => {
    const ext = body.external_ids;
    if (!isObject(ext) || ext.imdb_id === null || !Object.hasOwn(ext, "imdb_id")) return false;
    ext.imdb_id = null;
    return true;
  },
  empty_parts: (body, rng) => {
    const targets = [
      ["credits", "cast"],
      ["credits", "crew"],
      ["videos", "results"],
      ["keywords", "keywords"],
      ["release_dates", "results"],
    ].filter(([part, key]) => (listAt(body, part, key)?.length ?? 0) > 0);
    for (const [part, key] of pickSome(rng, targets, rng.range(1, 2))) {
      (body[part] as JsonObject)[key] = [];
    }
    return targets.length > 0;
  },
  duplicate_credit: (body, rng) => {
    const dup = (list: unknown[] | null) => {
      if (!list || list.length === 0) return false;
      const i = rng.int(list.length);
      list.splice(i + 1, 0, structuredClone(list[i]));
      return true;
    };
    const cast = dup(listAt(body, "credits", "cast"));
    const crew = (!cast || rng.chance(1 / 3)) && dup(listAt(body, "credits", "crew"));
    return cast || crew;
  },
  person_fields_missing: (body, rng) =>
    someOf(rng, people(body), 0.2)
      .map(({ entry, fields }) => removeFields(rng, entry, fields, "drop"))
      .includes(true),
  person_fields_null: (body, rng) =>
    someOf(rng, people(body), 0.2)
      .map(({ entry, fields }) => removeFields(rng, entry, fields, "null"))
      .includes(true),
  video_site_other: (body, rng) => {
    const videos = objects(listAt(body, "videos", "results"));
    for (const video of someOf(rng, videos, 0.5)) {
      if (rng.chance(0.8)) {
        video.site = "Vimeo";
        video.key = String(rng.range(100_000_000, 999_999_999));
      } else {
        video.site = rng.pick(["Dailymotion", "Bilibili"]);
        video.key = rng.chars("abcdefghijkmnopqrstuvwxyz0123456789", 10);
      }
    }
    return videos.length > 0;
  },
  video_fields_varied: (body, rng) =>
    someOf(rng, objects(listAt(body, "videos", "results")), 0.3)
      .map((video) => removeFields(rng, video, VIDEO_FIELDS, rng.chance(0.5) ? "drop" : "null"))
      .includes(true),
  release_entry_fields_varied: (body, rng) => {
    let changed = false;
    for (const entry of someOf(rng, releaseEntries(body), 0.4)) {
      const action = rng.int(8);
      const field = ["certification", "iso_639_1", "release_date"][action >> 1];
      if (action < 6) {
        if (!Object.hasOwn(entry, field)) continue;
        if (action % 2 === 0) delete entry[field];
        else entry[field] = null;
      } else if (action === 6) {
        entry.note = null;
      } else {
        entry.descriptors = rng.pick(DESCRIPTORS).slice();
      }
      changed = true;
    }
    return changed;
  },
  release_note_missing: (body) => {
    let changed = false;
    // A null note is `release_entry_fields_varied`'s: keep it.
    for (const entry of releaseEntries(body)) {
      if (typeof entry.note === "string") {
        delete entry.note;
        changed = true;
      }
    }
    return changed;
  },
  descriptors_missing: (body) => {
    let changed = false;
    // Filled descriptors are `release_entry_fields_varied`'s (the catalog sends `[]`): keep them.
    for (const entry of releaseEntries(body)) {
      if (Array.isArray(entry.descriptors) && entry.descriptors.length === 0) {
        delete entry.descriptors;
        changed = true;
      }
    }
    return changed;
  },
  name_missing: (body, rng) => {
    const genres = objects(body.genres).filter((g) => Object.hasOwn(g, "name"));
    const keywords = objects(listAt(body, "keywords", "keywords"))
      .filter((k) => Object.hasOwn(k, "name"));
    let changed = false;
    const both = rng.chance(0.5);
    if (genres.length > 0) changed = blank(rng, rng.pick(genres), "name");
    if (keywords.length > 0 && (both || !changed)) {
      changed = blank(rng, rng.pick(keywords), "name") || changed;
    }
    return changed;
  },
  external_ids_varied: (body, rng) => {
    const ext = body.external_ids;
    if (!isObject(ext)) return false;
    let changed = false;
    // Null ids (e.g. `imdb_id_null`'s) stay null.
    const fields = Object.keys(ext).filter((k) => k !== "id" && ext[k] !== null);
    for (const field of pickSome(rng, fields, rng.range(1, 3))) {
      changed = blank(rng, ext, field) || changed;
    }
    return changed;
  },
  nested_fields_missing: (body, rng) => {
    const containers: { entries: JsonObject[]; fields: string[] }[] = [
      {
        entries: objects(body.production_companies),
        fields: ["logo_path", "name", "origin_country"],
      },
      { entries: objects(body.production_countries), fields: ["name"] },
      { entries: objects(body.spoken_languages), fields: ["english_name", "name"] },
      {
        entries: isObject(body.belongs_to_collection) ? [body.belongs_to_collection] : [],
        fields: ["name", "poster_path", "backdrop_path"],
      },
    ].filter((c) => c.entries.length > 0);
    let changed = false;
    for (const { entries, fields } of pickSome(rng, containers, rng.range(1, 2))) {
      const entry = rng.pick(entries);
      const present = fields.filter((f) => Object.hasOwn(entry, f));
      if (present.length === 0) continue;
      delete entry[rng.pick(present)];
      changed = true;
    }
    return changed;
  },
  unknown_fields: (body, rng) => {
    sprinkleUnknown(body, rng);
    return true;
  },
};

/**
 * A movie details payload (with whatever appended parts it has) varied as the movie's
 * drawn kinds say. The input is not modified; essential fields are kept.
 */
export function varyDetails<T extends object>(body: T, options: VariationOptions = {}): Varied<T> {
  const seed = seedOf(options);
  const id = (body as JsonObject).id;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) {
    throw new Error(`varyDetails needs a payload with an integer id: current value is ${id}`);
  }
  const kinds = new Set(variationsOf(id, { seed }));
  if (kinds.size === 0) return { body, applied: [] };
  const out = structuredClone(body) as JsonObject;
  const applied = new Set<VariationKind>();
  for (const op of topLevelPlan(id, seed, kinds)) if (applyTopOp(out, op)) applied.add(op.kind);
  for (const { kind } of VARIATIONS) {
    const nested = NESTED[kind];
    if (nested && kinds.has(kind) && nested(out, rngFor(seed, id, kind, SALT.nested))) {
      applied.add(kind);
    }
  }
  return finish(body, out, applied);
}

/** The varied copy and its kinds in table order, or the input when nothing changed. */
function finish<T>(input: T, out: JsonObject, applied: ReadonlySet<VariationKind>): Varied<T> {
  if (applied.size === 0) return { body: input, applied: [] };
  return { body: out as T, applied: VARIATIONS.map((v) => v.kind).filter((k) => applied.has(k)) };
}

// -------------------------------------------------------------------------------------------
// Lists and changes
// -------------------------------------------------------------------------------------------

const LIST_ITEM_FIELDS = [
  "title",
  "original_title",
  "overview",
  "release_date",
  "poster_path",
  "backdrop_path",
  "genre_ids",
  "vote_average",
  "vote_count",
  "popularity",
  "adult",
  "video",
  "original_language",
  "media_type",
];

/**
 * A list item (`/movie/popular`, `now_playing`, `upcoming`, trending) varied as its movie's
 * kinds say: the top-level edits its details get, where the item has the field, plus
 * `list_item_fields_missing` and one unknown field for `unknown_fields`.
 */
export function varyListItem<T extends object>(item: T, options: VariationOptions = {}): Varied<T> {
  const seed = seedOf(options);
  const id = (item as JsonObject).id;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) {
    throw new Error(`varyListItem needs an item with an integer id: current value is ${id}`);
  }
  const kinds = new Set(variationsOf(id, { seed }));
  if (kinds.size === 0) return { body: item, applied: [] };
  const out = { ...item } as JsonObject;
  const applied = new Set<VariationKind>();
  const plan = topLevelPlan(id, seed, kinds);
  for (const op of plan) if (applyTopOp(out, op)) applied.add(op.kind);
  if (kinds.has("list_item_fields_missing")) {
    const rng = rngFor(seed, id, "list_item_fields_missing", SALT.list);
    const touched = new Set(plan.map((op) => op.field));
    const present = LIST_ITEM_FIELDS.filter((f) => Object.hasOwn(out, f) && !touched.has(f));
    for (const f of pickSome(rng, present, rng.range(1, 3))) {
      delete out[f];
      applied.add("list_item_fields_missing");
    }
  }
  if (kinds.has("unknown_fields")) {
    addUnknownField(out, rngFor(seed, id, "unknown_fields", SALT.list));
    applied.add("unknown_fields");
  }
  return finish(item, out, applied);
}

/** A `/movie/changes` item `{id, adult}` varied as its movie's kinds say. */
export function varyChangesItem<T extends object>(
  item: T,
  options: VariationOptions = {},
): Varied<T> {
  const seed = seedOf(options);
  const id = (item as JsonObject).id;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) {
    throw new Error(`varyChangesItem needs an item with an integer id: current value is ${id}`);
  }
  const kinds = new Set(variationsOf(id, { seed }));
  const out = { ...item } as JsonObject;
  const applied: VariationKind[] = [];
  if (kinds.has("changes_adult_null") && Object.hasOwn(out, "adult") && out.adult !== null) {
    out.adult = null;
    applied.push("changes_adult_null");
  }
  if (kinds.has("unknown_fields")) {
    addUnknownField(out, rngFor(seed, id, "unknown_fields", SALT.list));
    applied.push("unknown_fields");
  }
  return applied.length === 0 ? { body: item, applied } : { body: out as T, applied };
}

/**
 * A list or changes page with every item varied and, when drawn for (`endpoint`, page), an
 * unknown field on the envelope. `applied` lists the page's own kinds; each item's are
 * {@link varyListItem}'s or {@link varyChangesItem}'s. `endpoint` is the template path, e.g.
 * `/movie/popular` or `/movie/changes` (changes items get the changes-item variations).
 */
export function varyPage<T extends { page: number; results: object[] }>(
  page: T,
  endpoint: string,
  options: VariationOptions = {},
): Varied<T> {
  const varyItem = endpoint === "/movie/changes" ? varyChangesItem : varyListItem;
  const out: JsonObject = {
    ...page,
    results: page.results.map((item) => varyItem(item, options).body),
  };
  const applied = pageVariationsOf(endpoint, page.page, options);
  if (applied.includes("page_unknown_fields")) {
    addUnknownField(out, new Rng(hash4(seedOf(options), fnv1a(endpoint), page.page, SALT.page)));
  }
  return { body: out as T, applied };
}

/**
 * What the stand-in serves for `/movie/{id}?append_to_response=…` at `atMs` with variation
 * on: the catalog's details varied with the catalog's seed (unless `options.seed` says
 * otherwise), and the kinds that changed them. Null for an id that does not exist at `atMs`.
 */
export function variedDetails(
  catalog: Catalog,
  id: number,
  atMs: number,
  append: readonly string[] = [],
  options: VariationOptions = {},
): Varied<Record<string, unknown>> | null {
  const details = catalog.details(id, atMs, append);
  if (details === null) return null;
  return varyDetails(details as Record<string, unknown>, { seed: options.seed ?? catalog.seed });
}
