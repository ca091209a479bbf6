/**
 * zod schemas for every TMDB v3 response this project reads. Every object is
 * `.passthrough()`: fields TMDB adds later are kept (the ingest stores the whole validated
 * movie payload), and only the fields the project relies on are checked.
 *
 * Nullability follows what TMDB actually sends: image paths, `imdb_id`, `runtime`,
 * `belongs_to_collection`, `homepage`, `tagline` and `overview` can be `null`; strings like
 * `release_date` and `homepage` can also be `""`. Fields TMDB added over time or omits on
 * some records (`origin_country`, list-item `release_date`) are optional.
 *
 * @module
 */

import { z } from "zod";

/** An object schema that checks `shape` and keeps unknown keys. */
function loose<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape).passthrough();
}

const id = z.number().int();
const imagePath = z.string().nullable();

/** TMDB's largest `append_to_response` list (error status_code 27 beyond it). */
export const MAX_APPEND_PARTS = 20;

/** The parts appended to every movie details request (one request per movie). */
export const MOVIE_APPEND_PARTS = [
  "credits",
  "videos",
  "release_dates",
  "external_ids",
  "keywords",
] as const;

/** One of {@link MOVIE_APPEND_PARTS}. */
export type MovieAppendPart = (typeof MOVIE_APPEND_PARTS)[number];

/**
 * The `append_to_response` query value for `parts`. Throws if there are more than
 * {@link MAX_APPEND_PARTS}, duplicates, or parts that are not lowercase identifiers.
 */
export function appendToResponse(parts: readonly string[]): string {
  if (parts.length > MAX_APPEND_PARTS) {
    throw new RangeError(
      `append_to_response allows at most ${MAX_APPEND_PARTS} parts: current value has ${parts.length} (${
        parts.join(",")
      })`,
    );
  }
  const seen = new Set<string>();
  for (const part of parts) {
    if (!/^[a-z_]+$/.test(part)) {
      throw new RangeError(
        `append_to_response parts must match /^[a-z_]+$/: current value is ${JSON.stringify(part)}`,
      );
    }
    if (seen.has(part)) {
      throw new RangeError(`append_to_response lists ${JSON.stringify(part)} twice`);
    }
    seen.add(part);
  }
  return parts.join(",");
}

// The module refuses to load if someone grows the list past TMDB's limit.
appendToResponse(MOVIE_APPEND_PARTS);

// ---------------------------------------------------------------------------------------
// Movie details and appended parts
// ---------------------------------------------------------------------------------------

/** The person fields TMDB gives every cast and crew member (then the role's own). */
const creditPersonFields = {
  adult: z.boolean(),
  gender: z.number().int(),
  id,
  known_for_department: z.string().nullable(),
  name: z.string(),
  original_name: z.string(),
  popularity: z.number(),
  profile_path: imagePath,
};

/** A cast member in `credits.cast`. */
export const tmdbCastSchema = loose({
  ...creditPersonFields,
  cast_id: z.number().int().optional(),
  character: z.string().nullable(),
  credit_id: z.string(),
  order: z.number().int(),
});

/** A crew member in `credits.crew`. */
export const tmdbCrewSchema = loose({
  ...creditPersonFields,
  credit_id: z.string(),
  department: z.string(),
  job: z.string(),
});

/** `credits` (appended to movie details, or `/movie/{id}/credits`, whose `id` it then has). */
export const tmdbCreditsSchema = loose({
  id: id.optional(),
  cast: z.array(tmdbCastSchema),
  crew: z.array(tmdbCrewSchema),
});

/** One video in `videos.results`. */
export const tmdbVideoSchema = loose({
  id: z.string(),
  iso_639_1: z.string(),
  iso_3166_1: z.string(),
  key: z.string(),
  name: z.string(),
  site: z.string(),
  size: z.number().int(),
  type: z.string(),
  official: z.boolean(),
  published_at: z.string(),
});

/** `videos`. */
export const tmdbVideosSchema = loose({
  id: id.optional(),
  results: z.array(tmdbVideoSchema),
});

/**
 * One release in a country. `type`: 1 premiere, 2 theatrical (limited), 3 theatrical,
 * 4 digital, 5 physical, 6 TV.
 */
export const tmdbReleaseDateSchema = loose({
  certification: z.string(),
  descriptors: z.array(z.string()).optional(),
  iso_639_1: z.string(),
  note: z.string(),
  release_date: z.string(),
  type: z.number().int(),
});

/** `release_dates`: releases grouped by country. */
export const tmdbReleaseDatesSchema = loose({
  id: id.optional(),
  results: z.array(
    loose({
      iso_3166_1: z.string(),
      release_dates: z.array(tmdbReleaseDateSchema),
    }),
  ),
});

/** `external_ids`. */
export const tmdbExternalIdsSchema = loose({
  id: id.optional(),
  imdb_id: z.string().nullable(),
  wikidata_id: z.string().nullable(),
  facebook_id: z.string().nullable(),
  instagram_id: z.string().nullable(),
  twitter_id: z.string().nullable(),
});

/** A keyword `{id, name}`. */
export const tmdbKeywordSchema = loose({ id, name: z.string() });

/** `keywords` (movies use the key `keywords`; TV uses `results`). */
export const tmdbKeywordsSchema = loose({
  id: id.optional(),
  keywords: z.array(tmdbKeywordSchema),
});

/** `/movie/{id}` without appended parts. */
export const tmdbMovieBaseSchema = loose({
  adult: z.boolean(),
  backdrop_path: imagePath,
  belongs_to_collection: loose({
    id,
    name: z.string(),
    poster_path: imagePath,
    backdrop_path: imagePath,
  }).nullable(),
  budget: z.number(),
  genres: z.array(loose({ id, name: z.string() })),
  /** `""` or `null` when there is none. */
  homepage: z.string().nullable(),
  id,
  imdb_id: z.string().nullable(),
  origin_country: z.array(z.string()).optional(),
  original_language: z.string(),
  original_title: z.string(),
  overview: z.string().nullable(),
  popularity: z.number(),
  poster_path: imagePath,
  production_companies: z.array(
    loose({ id, logo_path: imagePath, name: z.string(), origin_country: z.string() }),
  ),
  production_countries: z.array(loose({ iso_3166_1: z.string(), name: z.string() })),
  /** `YYYY-MM-DD`, or `""` when unknown. */
  release_date: z.string(),
  revenue: z.number(),
  runtime: z.number().int().nullable(),
  spoken_languages: z.array(
    loose({ english_name: z.string(), iso_639_1: z.string(), name: z.string() }),
  ),
  status: z.string(),
  tagline: z.string().nullable(),
  title: z.string(),
  video: z.boolean(),
  vote_average: z.number(),
  vote_count: z.number().int(),
});

/** `/movie/{id}?append_to_response=credits,videos,release_dates,external_ids,keywords`. */
export const tmdbMovieDetailsSchema = tmdbMovieBaseSchema.extend({
  credits: tmdbCreditsSchema,
  videos: tmdbVideosSchema,
  release_dates: tmdbReleaseDatesSchema,
  external_ids: tmdbExternalIdsSchema,
  keywords: tmdbKeywordsSchema,
});

/** A validated movie details payload with every part of {@link MOVIE_APPEND_PARTS}. */
export type TmdbMovieDetails = z.infer<typeof tmdbMovieDetailsSchema>;

// ---------------------------------------------------------------------------------------
// Lists and changes
// ---------------------------------------------------------------------------------------

/** One movie in a list page (`now_playing`, `popular`, `trending`). */
export const tmdbMovieListItemSchema = loose({
  id,
  title: z.string(),
  adult: z.boolean(),
  popularity: z.number(),
  /** Missing or `""` on some records. */
  release_date: z.string().optional(),
  original_title: z.string().optional(),
  original_language: z.string().optional(),
  overview: z.string().nullable().optional(),
  poster_path: imagePath.optional(),
  backdrop_path: imagePath.optional(),
  genre_ids: z.array(id).optional(),
  video: z.boolean().optional(),
  vote_average: z.number().optional(),
  vote_count: z.number().int().optional(),
  /** Only on `/trending`. */
  media_type: z.string().optional(),
});

/** A page of `/movie/now_playing` (with `dates`), `/movie/popular` or `/trending/movie/{window}`. */
export const tmdbMoviePageSchema = loose({
  page: z.number().int(),
  results: z.array(tmdbMovieListItemSchema),
  total_pages: z.number().int(),
  total_results: z.number().int(),
  /** Only on `now_playing` (and `upcoming`): the window the list covers. */
  dates: loose({ maximum: z.string(), minimum: z.string() }).optional(),
});

/** A validated list page. */
export type TmdbMoviePage = z.infer<typeof tmdbMoviePageSchema>;
/** One movie in a {@link TmdbMoviePage}. */
export type TmdbMovieListItem = z.infer<typeof tmdbMovieListItemSchema>;

/** A page of `/movie/changes`: ids only, 100 a page. */
export const tmdbChangesPageSchema = loose({
  results: z.array(loose({ id, adult: z.boolean().nullable().default(null) })),
  page: z.number().int(),
  total_pages: z.number().int(),
  total_results: z.number().int(),
});

/** A validated changes page. */
export type TmdbChangesPage = z.infer<typeof tmdbChangesPageSchema>;

// ---------------------------------------------------------------------------------------
// Configuration and errors
// ---------------------------------------------------------------------------------------

/** `/configuration`: image URL = `images.secure_base_url` + size + `file_path`. */
export const tmdbConfigurationSchema = loose({
  images: loose({
    base_url: z.string(),
    secure_base_url: z.string(),
    backdrop_sizes: z.array(z.string()),
    logo_sizes: z.array(z.string()),
    poster_sizes: z.array(z.string()),
    profile_sizes: z.array(z.string()),
    still_sizes: z.array(z.string()),
  }),
  change_keys: z.array(z.string()),
});

/** A validated `/configuration` response. */
export type TmdbConfiguration = z.infer<typeof tmdbConfigurationSchema>;

/**
 * TMDB's error body, e.g. `{"success":false,"status_code":34,"status_message":"The resource
 * you requested could not be found."}`. Codes seen here: 7 invalid key (401), 25 over the
 * rate limit (429), 34 not found (404), 22 invalid page, 27 too many append parts.
 */
export const tmdbErrorBodySchema = loose({
  success: z.boolean().optional(),
  status_code: z.number().int(),
  status_message: z.string(),
});

/** A parsed TMDB error body. */
export type TmdbErrorBody = z.infer<typeof tmdbErrorBodySchema>;

/**
 * Renders zod issues as `path: message` pairs, e.g.
 * `credits.cast[3].name: Expected string, received null`, listing at most `max` of them.
 */
export function describeZodError(error: z.ZodError, max = 5): string {
  const parts = error.issues.slice(0, max).map((issue) => {
    let path = "";
    for (const key of issue.path) {
      path += typeof key === "number" ? `[${key}]` : path === "" ? key : `.${key}`;
    }
    return `${path === "" ? "(root)" : path}: ${issue.message}`;
  });
  const more = error.issues.length - parts.length;
  return parts.join("; ") + (more > 0 ? `; and ${more} more issue(s)` : "");
}
