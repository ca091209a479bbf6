/**
 * The TMDB v3 responses this project reads, under one tolerance policy (see
 * `tmdb_policy.ts` and docs/schema.md): a field is required only when its row cannot exist
 * without it; every other field may be missing, `null`, `""` or of another type, takes its
 * default and is counted as drift; unknown fields are counted and kept.
 *
 * - Movie details (`/movie/{id}` with every appended part) are NOT parsed here: the functions
 *   hand the response text to Postgres, where `public.tmdb_movie_fields()` holds their
 *   field-by-field policy (migration 025) and `public.ingest_movie` applies it.
 * - List pages and change-feed pages are read here: only what the functions use is kept
 *   (each item's `id`, the paging fields), an item without a usable `id` is dropped and
 *   counted, and the rest of each item is checked for drift only.
 * - Error bodies: `status_code` and `status_message` are optional.
 *
 * @module
 */

import { z } from "zod";
import { MAX_APPEND_PARTS } from "./limits.ts";
import { type Drift, inspectShape, type ShapeRules } from "./policy.ts";

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
// List pages and the change feed
// ---------------------------------------------------------------------------------------

/** The fields of a list page (`now_playing`, `popular`, `trending/movie/{window}`). */
export const MOVIE_PAGE_RULES: ShapeRules = {
  "": {
    page: { type: "integer" },
    results: { type: "array" },
    total_pages: { type: "integer" },
    total_results: { type: "integer" },
    // Only on now_playing and upcoming.
    dates: { type: "object", optional: true },
  },
  "dates": { maximum: { type: "string" }, minimum: { type: "string" } },
  "results": { "[]": { type: "object" } },
  "results[]": {
    id: { type: "integer", essential: true },
    adult: { type: "boolean" },
    backdrop_path: { type: "string", nullable: true },
    genre_ids: { type: "array" },
    original_language: { type: "string" },
    original_title: { type: "string" },
    overview: { type: "string" },
    popularity: { type: "number" },
    poster_path: { type: "string", nullable: true },
    release_date: { type: "string" },
    title: { type: "string" },
    video: { type: "boolean" },
    vote_average: { type: "number" },
    vote_count: { type: "integer" },
    // Only on /trending.
    media_type: { type: "string", optional: true },
  },
  "results[].genre_ids": { "[]": { type: "integer" } },
};

/** The fields of a `/movie/changes` page: ids only, 100 a page. */
export const CHANGES_PAGE_RULES: ShapeRules = {
  "": {
    page: { type: "integer" },
    results: { type: "array" },
    total_pages: { type: "integer" },
    total_results: { type: "integer" },
  },
  "results": { "[]": { type: "object" } },
  "results[]": {
    id: { type: "integer", essential: true },
    adult: { type: "boolean", nullable: true },
  },
};

/** A page as the functions use it: its movie ids and where paging stands. */
export interface TmdbIdPage {
  /** The page number (1 when TMDB did not say). */
  page: number;
  /** The movie ids on the page, in TMDB's order (items without a usable id are dropped). */
  ids: number[];
  /** Pages TMDB says there are (the page itself when TMDB did not say). */
  total_pages: number;
  /** What was defaulted or dropped, by path (see `tmdb_policy.ts`). */
  drift: Drift;
}

const positiveId = z.number().int().positive().max(2_147_483_647);

/** The parts of a page the functions use, once the policy has checked it. */
const idPageSchema = z.object({
  page: z.number().int().positive().catch(1),
  total_pages: z.number().int().nonnegative().nullable().catch(null),
  results: z.array(z.unknown()).catch([]),
});

/**
 * Reads a list or change-feed page under the policy: never fails on a field's shape. Items
 * whose `id` is missing, null, or not a positive whole number within Postgres `integer` are
 * dropped and counted as drift of `results[].id` (`missing`, `null`, `wrong_type`).
 */
export function readIdPage(json: unknown, rules: ShapeRules): TmdbIdPage {
  const { drift, essential } = inspectShape(json, rules);
  // A dropped item counts under its id, with the kinds tmdb_payload_drift holds: an id that
  // is a whole number but not positive is of the wrong type for an id.
  for (const problem of essential) {
    const kind = problem.kind === "out_of_range" ? "wrong_type" : problem.kind;
    const kinds = drift["results[].id"] ??= {};
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  const envelope = idPageSchema.parse(
    json !== null && typeof json === "object" && !Array.isArray(json) ? json : {},
  );
  const ids: number[] = [];
  for (const item of envelope.results) {
    const id = positiveId.safeParse((item as { id?: unknown } | null)?.id);
    if (id.success) ids.push(id.data);
  }
  return {
    page: envelope.page,
    ids,
    total_pages: envelope.total_pages ?? envelope.page,
    drift,
  };
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/**
 * TMDB's error body, e.g. `{"success":false,"status_code":34,"status_message":"The resource
 * you requested could not be found."}`. Codes seen here: 7 invalid key (401), 25 over the
 * rate limit (429), 34 not found (404), 22 invalid page, 27 too many append parts. Every
 * field is optional: a body without them still gives the HTTP status.
 */
export const tmdbErrorBodySchema = z.object({
  success: z.boolean().nullable().optional().catch(undefined),
  status_code: z.number().int().nullable().optional().catch(undefined),
  status_message: z.string().nullable().optional().catch(undefined),
}).passthrough();

/** A parsed TMDB error body. */
export type TmdbErrorBody = z.infer<typeof tmdbErrorBodySchema>;
